"""Files written so that a crash or a second process never sees half of one, their digests, and the cache folder."""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from . import settings


def write_atomically(path: str | Path, data: bytes | str) -> None:
    """Write `data` beside `path` under a hidden name, then rename it into place: a reader sees the old file or the
    new one, never part of it. The file gets mode 0o666 less the umask, like any new file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), "wb") as file:
            file.write(data.encode() if isinstance(data, str) else data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def sha256_of(path: str | Path) -> str:
    """The sha256 of a file's bytes, read in blocks."""
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def cache_dir(*parts: str) -> Path:
    """Where derived files are kept (ONNX exports, tiktoken's BPE file): $VERBATIM_CACHE, else
    $XDG_CACHE_HOME/verbatim or ~/.cache/verbatim."""
    configured = settings.get("CACHE")
    base = (
        Path(configured)
        if configured
        else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "verbatim"
    )
    return base.joinpath(*parts)
