"""Who may change a served library: anyone (open), whoever logs in (login), or no one (read-only).

Questions are always open; adding and removing articles is what is locked. Passwords are kept only as
scrypt hashes ("scrypt$n$r$p$salt$hash", made by `rag hash-password`), given as "user:hash" lines in
$VERBATIM_AUTH or in a file. A login costs one scrypt hash whether or not the user exists (so timing does not
tell which users do), and a failed one waits FAILED_LOGIN_DELAY seconds before it answers (so guessing is slow).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import settings
from .errors import RagError

MODES = ("open", "login", "read-only")
_N, _R, _P = 2**15, 8, 1  # ~0.1 s and 32 MiB a hash
_MAX_MEMORY = 64 * 2**20
AUTH_ENV = "VERBATIM_AUTH"
FAILED_LOGIN_DELAY = 1.0


def hash_password(password: str) -> str:
    """A salted scrypt hash of the password, as the login lines hold it."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, maxmem=_MAX_MEMORY)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, hashed: str) -> bool:
    """Whether the password is the one hashed (False for a malformed hash)."""
    try:
        scheme, n, r, p, salt, digest = hashed.split("$")
        if scheme != "scrypt":
            return False
        found = hashlib.scrypt(
            password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), maxmem=_MAX_MEMORY
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(found.hex(), digest)


_UNKNOWN_USER = hash_password(secrets.token_hex(16))  # checked against when the user does not exist


@dataclass(frozen=True)
class Access:
    """The server's rule for library changes: `mode` one of MODES; `users`: user → password hash (for "login")."""

    mode: str = "open"
    users: dict[str, str] = field(default_factory=dict, repr=False)

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
            lines, where = (settings.get("AUTH") or "").split(","), f"${AUTH_ENV}"
        users = {}
        for number, line in enumerate((line.strip() for line in lines), 1):
            if not line or line.startswith("#"):
                continue
            user, _, hashed = line.partition(":")
            if not user or not hashed.startswith("scrypt$"):  # the line itself is not shown: it may hold a password
                raise RagError(
                    f"{where}, entry {number}: expected user:scrypt$… (make the hash with: rag hash-password)"
                )
            users[user] = hashed
        if not users:
            raise RagError(
                f"--auth needs a user: set {AUTH_ENV}=user:HASH or give --auth-file (make HASH with: rag hash-password)"
            )
        return cls("login", users)

    def allows(self, signed_in: str | None) -> bool:
        """Whether a session signed in as this user (None: not signed in) may change the library."""
        return self.mode == "open" or (self.mode == "login" and signed_in in self.users)

    def log_in(self, user: str | None, password: str | None) -> bool:
        """Whether this user and password are right (and so may sign a session in); a wrong one waits first."""
        right = self.checks(user, password)
        if not right:
            time.sleep(FAILED_LOGIN_DELAY)
        return right

    def checks(self, user: str | None, password: str | None) -> bool:
        """Whether this user and password are right, at once: the caller makes a wrong one wait (`log_in` does)."""
        if self.mode != "login":
            return False
        return verify_password(password or "", self.users.get(user or "", _UNKNOWN_USER)) and (user or "") in self.users

    @property
    def refusal(self) -> str:
        """What a refused change is told."""
        if self.mode == "read-only":
            return "This library is read-only: articles cannot be added or removed here."
        return "Log in (Library tab) to add or remove articles."
