"""Which uploads a server takes: checked on the request's headers, before a byte of the file is stored.

A read-only library takes none; a locked one only from a signed-in client; every client gets at most
`per_minute` uploads a minute (counted per address), each at most `max_bytes` (by its declared length).
A page that logs in is given a pass (a random token its browser sends as a cookie), since the upload request
carries no other sign of its session.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque

from . import settings
from .access import Access

MULTIPART_OVERHEAD = 64 * 1024  # form boundaries and headers around the file itself
PASS_COOKIE = "verbatim_pass"
PASS_SECONDS = 12 * 3600


class Refusal(Exception):
    """Why a request is refused, with the HTTP status that says so."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class UploadGate:
    """Admits or refuses uploads by who sends them, how often and how large. Safe to share between threads."""

    def __init__(self, access: Access, max_bytes: int, per_minute: int = 20):
        self.access = access
        self.max_bytes = max_bytes
        self.per_minute = per_minute
        self._recent: dict[str, deque[float]] = {}
        self._passes: dict[str, float] = {}  # token → when it expires
        self._lock = threading.Lock()

    @classmethod
    def configured(cls, access: Access, max_bytes: int) -> UploadGate:
        """`max_bytes` a file and $VERBATIM_UPLOADS_PER_MINUTE per client."""
        return cls(access, max_bytes, per_minute=int(settings.get("UPLOADS_PER_MINUTE")))

    def issue_pass(self) -> str:
        """A pass for a page that logged in, valid PASS_SECONDS."""
        token = secrets.token_urlsafe(24)
        with self._lock:
            now = time.monotonic()
            self._passes = {t: end for t, end in self._passes.items() if end > now} | {token: now + PASS_SECONDS}
        return token

    def has_pass(self, token: str | None) -> bool:
        with self._lock:
            return bool(token) and self._passes.get(token, 0) > time.monotonic()

    def refusal(self, client: str, signed_in: bool, length: str | None) -> Refusal | None:
        """None to admit an upload from `client` (its address) of declared `length` (the Content-Length header);
        `signed_in`: whether the request carries a valid login. An admitted upload counts towards the rate."""
        if self.access.mode == "read-only":
            return Refusal(403, self.access.refusal)
        if self.access.mode == "login" and not signed_in:
            return Refusal(401, "Log in to add articles: uploads without a login are refused.")
        if length is None or not length.isdigit():
            return Refusal(411, "Send the upload with its length (a Content-Length header).")
        if int(length) > self.max_bytes + MULTIPART_OVERHEAD:
            return Refusal(
                413,
                f"The upload is {int(length):,} bytes; send at most {self.max_bytes:,} bytes (one article) at a time.",
            )
        return self._counted(client)

    def _counted(self, client: str) -> Refusal | None:
        now = time.monotonic()
        with self._lock:
            for address in [a for a, times in self._recent.items() if times[-1] <= now - 60]:
                del self._recent[address]  # nothing from it for a minute: forgotten
            recent = self._recent.setdefault(client, deque())
            while recent and recent[0] <= now - 60:
                recent.popleft()
            if len(recent) >= self.per_minute:
                wait = 60 - (now - recent[0])
                return Refusal(429, f"Too many uploads: {self.per_minute} a minute at most; try again in {wait:.0f} s.")
            recent.append(now)
        return None
