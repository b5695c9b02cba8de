"""Who may change a served library: anyone (open), whoever logs in (login), or no one (read-only).

Questions are always open; adding and removing articles is what is locked. Passwords are kept only as
scrypt hashes ("scrypt$n$r$p$salt$hash", made by `rag hash-password`), given as "user:hash" lines in
$VERBATIM_AUTH or in a file; a login is checked in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from .errors import RagError

MODES = ("open", "login", "read-only")
_N, _R, _P = 2**14, 8, 1
AUTH_ENV = "VERBATIM_AUTH"


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, hashed: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = hashed.split("$")
        if scheme != "scrypt":
            return False
        found = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(found.hex(), digest)


@dataclass(frozen=True)
class Access:
    mode: str = "open"
    users: dict[str, str] = field(default_factory=dict)  # user → password hash

    @classmethod
    def configured(cls, login: bool = False, read_only: bool = False, auth_file: str | Path | None = None) -> Access:
        """From the server's options: `login` reads the users from `auth_file`, else from $VERBATIM_AUTH."""
        if read_only:
            return cls("read-only")
        if not login and auth_file is None:
            return cls("open")
        if auth_file is not None:
            try:
                lines = Path(auth_file).read_text(encoding="utf-8").splitlines()
            except OSError as exc:
                raise RagError(f"cannot read the login file {auth_file}: {exc}") from exc
            where = str(auth_file)
        else:
            lines, where = os.environ.get(AUTH_ENV, "").split(","), f"${AUTH_ENV}"
        users = {}
        for line in (line.strip() for line in lines):
            if not line or line.startswith("#"):
                continue
            user, _, hashed = line.partition(":")
            if not user or not hashed.startswith("scrypt$"):
                raise RagError(f"{where}: expected user:scrypt$… lines (make the hash with: rag hash-password), got {line[:40]!r}")
            users[user] = hashed
        if not users:
            raise RagError(f"--auth needs a user: set {AUTH_ENV}=user:HASH or give --auth-file (make HASH with: rag hash-password)")
        return cls("login", users)

    def allows(self, signed_in: str | None) -> bool:
        """Whether a session signed in as this user (None: not signed in) may change the library."""
        return self.mode == "open" or (self.mode == "login" and signed_in in self.users)

    def log_in(self, user: str | None, password: str | None) -> bool:
        """Whether this user and password are right (and so may sign a session in)."""
        return self.mode == "login" and bool(user) and user in self.users and verify_password(password or "", self.users[user])

    @property
    def refusal(self) -> str:
        if self.mode == "read-only":
            return "This library is read-only: articles cannot be added or removed here."
        return "Log in (Library tab) to add or remove articles."
