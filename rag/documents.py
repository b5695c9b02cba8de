"""Files → documents: read a corpus folder of .txt, .md and .html articles.

A document's id is its path relative to the corpus root (POSIX separators), so citations name
the file a reader can open. Its text is what every offset in the index points into.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from .errors import CorpusError, UnreadableFileError

log = logging.getLogger(__name__)

TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES
MAX_FILE_BYTES = 20 * 1024 * 1024
_TITLE_CHARS = 90


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    text: str
    sha256: str


@dataclass(frozen=True)
class SkippedFile:
    path: str
    reason: str


@dataclass
class LoadedCorpus:
    documents: list[Document] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)


def decode_text(raw: bytes) -> tuple[str, str]:
    """Decode article bytes: UTF-8 first, then cp1252, then latin-1; say which one was used."""
    if b"\x00" in raw[:8192]:
        raise UnreadableFileError("binary file (contains NUL bytes)")
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    controls = sum(1 for ch in text[:8192] if ord(ch) < 32 and ch not in "\n\r\t\f")
    if controls > 0.05 * max(1, min(len(text), 8192)):
        raise UnreadableFileError("binary file (mostly control characters)")
    return text.replace("\r\n", "\n").replace("\r", "\n"), encoding.replace("-sig", "")


def _title_from_text(text: str, fallback: str) -> str:
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line if len(line) <= _TITLE_CHARS else line[: _TITLE_CHARS - 1].rstrip() + "…"
    return fallback


def _extract_html(html: str) -> tuple[str, str | None]:
    import trafilatura

    text = trafilatura.extract(html, include_comments=False, include_tables=True, favor_recall=True)
    metadata = trafilatura.extract_metadata(html)
    return text or "", metadata.title if metadata else None


def parse_document(doc_id: str, raw: bytes) -> Document:
    """Turn one file's bytes into a Document, or raise UnreadableFileError saying why."""
    suffix = Path(doc_id).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnreadableFileError(f"unsupported file type {suffix or '(none)'!r}; use .txt, .md or .html")
    if len(raw) > MAX_FILE_BYTES:
        raise UnreadableFileError(f"file is {len(raw):,} bytes; the limit is {MAX_FILE_BYTES:,}")
    text, encoding = decode_text(raw)
    if encoding != "utf-8":
        log.warning("%s is not valid UTF-8; decoded it as %s", doc_id, encoding)
    title = None
    if suffix in HTML_SUFFIXES:
        text, title = _extract_html(text)
    if not text.strip():
        raise UnreadableFileError("empty file (no text to index)")
    return Document(
        id=doc_id,
        title=title or _title_from_text(text, Path(doc_id).stem),
        text=text,
        sha256=hashlib.sha256(raw).hexdigest(),
    )


class DocumentLoader:
    """Reads every supported file under a folder, recursively; unreadable files are skipped with a warning."""

    def __init__(self, suffixes: frozenset[str] = SUPPORTED_SUFFIXES):
        self.suffixes = suffixes

    def files(self, root: str | Path) -> list[tuple[str, Path]]:
        """(document id, path) of every file under `root` that would be read, in order."""
        root = Path(root)
        if not root.is_dir():
            raise CorpusError(f"corpus folder not found: {root}")
        found = ((path.relative_to(root).as_posix(), path) for path in sorted(p for p in root.rglob("*") if p.is_file()))
        return [(doc_id, path) for doc_id, path in found if path.suffix.lower() in self.suffixes and not _is_hidden(doc_id)]

    def run(self, root: str | Path) -> LoadedCorpus:
        corpus = LoadedCorpus()
        for doc_id, path in self.files(root):
            read = read_document(doc_id, path)
            (corpus.skipped if isinstance(read, SkippedFile) else corpus.documents).append(read)
        return corpus


def read_document(doc_id: str, path: Path) -> Document | SkippedFile:
    """The file as a Document, or a SkippedFile saying why it cannot be one (and a logged warning)."""
    try:
        return parse_document(doc_id, path.read_bytes())
    except (UnreadableFileError, OSError) as exc:
        log.warning("skipped %s: %s", doc_id, exc)
        return SkippedFile(doc_id, str(exc))


def _is_hidden(doc_id: str) -> bool:
    return any(part.startswith(".") for part in doc_id.split("/"))

