"""Files → documents: read a corpus folder of .txt, .md and .html articles.

A document's id is its path relative to the corpus root (POSIX separators), so citations name
the file a reader can open. Its text is what every offset in the index points into. Nothing
outside the corpus root is read: symlinks are followed only while they stay inside it.
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import os
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from .errors import CorpusError, UnreadableFileError

log = logging.getLogger(__name__)

TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES
MAX_FILE_BYTES = 20 * 1024 * 1024
_TITLE_CHARS = 90
_GUESSED_ENCODINGS = ("cp1252", "latin-1")
# UTF-32-LE's byte-order mark begins with UTF-16-LE's, so the UTF-32 marks are tried first.
_UNICODE_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
                 (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


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
    """Decode article bytes and say which encoding was used: UTF-16 or UTF-32 when a byte-order mark
    declares it (their text is full of NUL bytes, so this comes before the binary check), else
    UTF-8, then the guesses cp1252 and latin-1."""
    declared = _decode_declared_unicode(raw)
    if declared:
        text, encoding = declared
    elif b"\x00" in raw[:8192]:
        raise UnreadableFileError("binary file (contains NUL bytes)")
    else:
        for encoding in ("utf-8-sig", *_GUESSED_ENCODINGS):
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
    controls = sum(1 for ch in text[:8192] if ord(ch) < 32 and ch not in "\n\r\t\f")
    if controls > 0.05 * max(1, min(len(text), 8192)):
        raise UnreadableFileError("binary file (mostly control characters)")
    return text.replace("\r\n", "\n").replace("\r", "\n"), encoding.replace("-sig", "")


def _decode_declared_unicode(raw: bytes) -> tuple[str, str] | None:
    """(text, encoding) of bytes that begin with a UTF-16 or UTF-32 byte-order mark, else None."""
    for bom, encoding in _UNICODE_BOMS:
        if raw.startswith(bom):
            try:
                return raw[len(bom) :].decode(encoding), encoding
            except UnicodeDecodeError as exc:
                raise UnreadableFileError(f"not valid {encoding} despite its byte-order mark ({exc.reason})") from exc
    return None


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
    if encoding in _GUESSED_ENCODINGS:  # a byte-order mark is a declaration, not a guess
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
        """(document id, real path) of every file under `root` that would be read, in order of id.

        Hidden files and folders are left out. A symlink whose target lies inside the root is read
        like that file or folder, under the link's path, unless the file is read already: under its
        own path first, else under the first link to it, so no text is indexed twice. A folder is
        walked once however many links lead to it, so links cannot loop. A link that leaves the
        root, dangles or loops is refused with a warning. The paths returned have every symlink
        resolved, so opening them later follows no link."""
        top = Path(root).resolve()
        if not top.is_dir():
            raise CorpusError(f"corpus folder not found: {root}")
        found: dict[Path, str] = {}  # real path → document id
        walked: set[Path] = set()
        links: deque[tuple[str, Path]] = deque()

        def walk(folder: Path, prefix: str) -> None:
            if folder in walked:
                return
            walked.add(folder)
            try:
                with os.scandir(folder) as scan:
                    entries = sorted(scan, key=lambda entry: entry.name)
            except OSError as exc:
                log.warning("skipped folder %s: %s", prefix or ".", exc)
                return
            for entry in entries:
                doc_id = prefix + entry.name
                if entry.name.startswith("."):
                    continue
                if not _is_text(entry.name):  # bytes that are not UTF-8: no id a citation or the index could hold
                    log.warning("skipped %s: its name is not valid UTF-8; rename it to index it", os.fsencode(doc_id))
                    continue
                if entry.is_symlink():
                    links.append((doc_id, Path(entry.path)))
                elif entry.is_dir(follow_symlinks=False):
                    walk(Path(entry.path), doc_id + "/")
                elif entry.is_file(follow_symlinks=False) and self._wanted(doc_id):
                    found.setdefault(Path(entry.path), doc_id)

        walk(top, "")
        while links:  # after the whole real tree, so a file's own path wins over a link's
            doc_id, link = links.popleft()
            try:
                target = inside_corpus(top, link)
            except UnreadableFileError as exc:
                log.warning("skipped %s: %s", doc_id, exc)
                continue
            if target.is_dir():
                walk(target, doc_id + "/")
            elif target.is_file() and self._wanted(doc_id):
                found.setdefault(target, doc_id)
        return sorted(((doc_id, path) for path, doc_id in found.items()), key=lambda item: item[0].split("/"))

    def run(self, root: str | Path) -> LoadedCorpus:
        corpus = LoadedCorpus()
        for doc_id, path in self.files(root):
            read = read_document(doc_id, path, root)
            (corpus.skipped if isinstance(read, SkippedFile) else corpus.documents).append(read)
        return corpus

    def _wanted(self, doc_id: str) -> bool:
        return Path(doc_id).suffix.lower() in self.suffixes


def _is_text(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def inside_corpus(root: str | Path, path: Path) -> Path:
    """The real path `path` leads to, every symlink resolved, or UnreadableFileError when that lies
    outside the corpus folder `root` or nowhere: the one check between the corpus and the rest of
    the disk, made by the folder scan and by every read given a root."""
    try:
        real = path.resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop (RuntimeError before Python 3.13)
        raise UnreadableFileError("symlink loop") from exc
    if not real.is_relative_to(Path(root).resolve()):
        raise UnreadableFileError("it points outside the corpus; only files and folders inside it are read")
    if not real.exists():
        raise UnreadableFileError("dangling symlink (its target does not exist)" if path.is_symlink() else "no such file")
    return real


def read_document(doc_id: str, path: Path, root: str | Path | None = None) -> Document | SkippedFile:
    """The file as a Document, or a SkippedFile saying why it cannot be one (and a logged warning).

    With the corpus `root`, the path must lead to a file inside it; checked as the file is read,
    so a file swapped for a symlink after a scan is still refused."""
    try:
        real = path if root is None else inside_corpus(root, path)
        return parse_document(doc_id, real.read_bytes())
    except (UnreadableFileError, OSError) as exc:
        log.warning("skipped %s: %s", doc_id, exc)
        return SkippedFile(doc_id, str(exc))
