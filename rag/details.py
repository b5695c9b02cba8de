"""Article details set by a person, for what an article's text does not state: title, outlet, date, author, URL.

They are kept beside the articles, one hidden sidecar file per folder (`<folder>/.verbatim-meta.json`: file name →
the fields set), so that they travel with the corpus and a rebuild of the index keeps them. Reading an article
lays them over what its text states (rag/documents.py). The index notices a change through each document's
fingerprint, the file's sha256 followed by "+" and a digest of its set details, and re-labels the document's rows
with its vectors reused: nothing is embedded again (docs/decisions/2026-12-07-article-details.md). What nobody set
stays what the text states, or unknown.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
from pathlib import Path

from .errors import RagError
from .files import sha256_of, write_atomically
from .metadata import Metadata, iso_date

log = logging.getLogger(__name__)

SIDECAR = ".verbatim-meta.json"
FIELDS = tuple(f.name for f in dataclasses.fields(Metadata))  # title, outlet, published, author, url
MAX_CHARS = 500


def _entries(folder: Path) -> dict[str, dict[str, str]]:
    """The folder's sidecar: file name → the fields set ({} when there is none, or it cannot be read). Read once
    per version of the file, not once per article: an index update asks for every article of the folder."""
    path = folder / SIDECAR
    try:
        stat = path.stat()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        log.warning("ignored %s: %s", path, exc)
        return {}
    return _read_entries(path, stat.st_ino, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=64)
def _read_entries(path: Path, inode: int, mtime_ns: int, size: int) -> dict[str, dict[str, str]]:
    """The sidecar at `path` as it is in this version (inode, mtime, size); shared, so callers copy before changing."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("ignored %s: %s", path, exc)
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        str(name): {k: str(v) for k, v in fields.items() if k in FIELDS and isinstance(v, str) and v.strip()}
        for name, fields in data.items()
        if isinstance(fields, dict)
    }


def details_of(path: str | Path) -> Metadata:
    """What was set for the article file at `path` (its real path: the sidecar beside the file itself)."""
    real = Path(path).resolve()
    fields = _entries(real.parent).get(real.name, {})
    return Metadata(**{k: fields.get(k) for k in FIELDS})


def fingerprint(path: str | Path, sha256: str | None = None, details: Metadata | None = None) -> str:
    """What the index records to tell a document's version: its file's sha256, then "+" and a digest of its set
    details when it has any."""
    sha256 = sha256 or sha256_of(path)
    details = details_of(path) if details is None else details
    if not any(details.astuple()):
        return sha256
    return f"{sha256}+{hashlib.sha256(json.dumps(details.astuple()).encode()).hexdigest()[:16]}"


def file_sha256(fingerprint: str) -> str:
    """The file's sha256 in a fingerprint."""
    return fingerprint.split("+", 1)[0]


def checked(fields: dict[str, str | None]) -> dict[str, str | None]:
    """The fields to set, checked: known names, a date as YYYY-MM-DD (or a day-month-year date with the month named),
    "" to clear; RagError saying what is wrong otherwise."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise RagError(f"unknown article detail {', '.join(sorted(unknown))}; set {', '.join(FIELDS)}")
    done = {}
    for name, value in fields.items():
        if value is None:
            continue
        value = " ".join(str(value).split())
        if len(value) > MAX_CHARS:
            raise RagError(f"the {name} is {len(value)} characters; at most {MAX_CHARS}")
        if name == "published" and value:
            day = iso_date(value)
            if day is None:
                raise RagError(f"not a date: {value!r}; write it as YYYY-MM-DD, e.g. 2024-12-19")
            value = day
        if name == "url" and value and not value.startswith(("http://", "https://")):
            raise RagError(f"not a web address: {value!r}; it starts with http:// or https://")
        done[name] = value
    return done


def set_details(path: str | Path, **fields: str | None) -> Metadata:
    """Set details of the article file at `path` in its folder's sidecar: a value sets it, "" clears it, None
    leaves it; returns all its set details."""
    fields = checked(fields)
    real = Path(path).resolve()
    entries = dict(_entries(real.parent))
    entry = {**entries.get(real.name, {}), **fields}
    entry = {k: v for k, v in entry.items() if v}
    if entry:
        entries[real.name] = {k: entry[k] for k in FIELDS if k in entry}
    else:
        entries.pop(real.name, None)
    _write(real.parent, entries)
    return details_of(real)


def forget(path: str | Path) -> None:
    """Drop the details set for the article file at `path` (it left the library)."""
    real = Path(path).resolve()
    entries = dict(_entries(real.parent))
    if entries.pop(real.name, None) is not None:
        _write(real.parent, entries)


def _write(folder: Path, entries: dict) -> None:
    if entries or (folder / SIDECAR).exists():
        write_atomically(folder / SIDECAR, json.dumps(entries, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
