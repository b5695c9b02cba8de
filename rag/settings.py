"""The VERBATIM_* environment variables: every setting read from the environment, its default, what it sets."""

from __future__ import annotations

import os

PREFIX = "VERBATIM_"

SETTINGS: dict[str, tuple[str | None, str]] = {
    "CORPUS": ("data/articles", "articles folder the web chat serves"),
    "INDEX_DIR": ("index", "index folder"),
    "HOST": ("127.0.0.1", "address the web chat listens on"),
    "PORT": ("7860", "port the web chat listens on"),
    "READER_BATCH": ("0", "1: questions read at the same moment go through the reader as one batch"),
    "UPLOADS_PER_MINUTE": ("20", "uploads a server takes from one client a minute"),
    "SHARD_TIMEOUT": ("10", "seconds a question waits for a shard on Ray Serve before it is told the shard is down"),
    "AUTH": (None, "users allowed to change the library, as user:HASH, comma-separated"),
    "MODEL": (None, "embedding model (a sentence-transformers folder or name)"),
    "EMBEDDING_BACKEND": (None, "onnx or torch (default: onnx on CPU)"),
    "READER": (None, "reader model folder (default: the shipped reader)"),
    "READER_PRECISION": (None, "fp32 or int8 (default: whichever this CPU runs faster)"),
    "CACHE": (None, "folder for derived files (default: $XDG_CACHE_HOME/verbatim or ~/.cache/verbatim)"),
}


def get(name: str) -> str | None:
    """$VERBATIM_<name> when set and not empty, else the setting's default."""
    if name not in SETTINGS:
        raise KeyError(f"unknown setting {PREFIX}{name}")
    return os.environ.get(PREFIX + name) or SETTINGS[name][0]


def described() -> str:
    """One line per setting, for --help texts."""
    return "\n".join(
        f"  {PREFIX}{name}: {text}" + (f" (default: {default})" if default else "")
        for name, (default, text) in SETTINGS.items()
    )


def given() -> dict[str, str]:
    """The settings set in this process's environment, as variables (to hand on to other processes)."""
    return {PREFIX + name: os.environ[PREFIX + name] for name in SETTINGS if os.environ.get(PREFIX + name)}
