"""Files → documents: read a corpus folder of .txt, .md, .html and .pdf articles.

A document's id is its path relative to the corpus root (POSIX separators), so citations name
the file a reader can open. Its text is what every offset in the index points into. Nothing
outside the corpus root is read: symlinks are followed only while they stay inside it.
Each document carries what it is cited by (title, outlet, date, author, URL: rag/metadata.py) and its
`blocks`: the ranges of its text that are article, each ending a sentence, without front matter or
page furniture (rag/boilerplate.py), so that these are never chunked while every offset stays exact.
"""

from __future__ import annotations

import bisect
import codecs
import hashlib
import io
import logging
import os
import re
from collections import deque
from dataclasses import dataclass, field, replace
from pathlib import Path

from .boilerplate import BoilerplateFinder
from .errors import CorpusError, UnreadableFileError
from .metadata import LINE, Metadata, TextMetadata, front_matter, iso_date

log = logging.getLogger(__name__)

TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
PDF_SUFFIXES = frozenset({".pdf"})
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES
MAX_FILE_BYTES = 20 * 1024 * 1024
_TITLE_CHARS = 90
_ENDS_SENTENCE_OR_CLAUSE = re.compile(r"[.!?…:;][\"'”’)\]]*\s*$")  # not a heading, not a line wrapped mid-sentence
_GUESSED_ENCODINGS = ("cp1252", "latin-1")
# UTF-32-LE's byte-order mark begins with UTF-16-LE's, so the UTF-32 marks are tried first.
_UNICODE_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


@dataclass(frozen=True)
class Document:
    id: str
    text: str
    sha256: str
    meta: Metadata  # its title is the headline, else the opening words: never empty
    blocks: tuple[tuple[int, int], ...] | None = None  # the article's ranges of `text`; None: every line
    pages: tuple[int, ...] | None = None  # a PDF's: where each page's text starts in `text`

    def page_of(self, offset: int) -> int | None:
        """The 1-based page holding a character offset (None: not read from pages)."""
        return page_of(self.pages, offset)


def page_of(pages: tuple[int, ...] | list[int] | None, offset: int) -> int | None:
    """The 1-based page holding a character offset, for a document read from pages (else None)."""
    return bisect.bisect_right(pages, offset) if pages else None


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


def _shortened(line: str) -> str:
    line = line.strip().lstrip("#").strip()
    return line if len(line) <= _TITLE_CHARS else line[: _TITLE_CHARS - 1].rstrip() + "…"


def _extract_html(html: str) -> tuple[str, Metadata]:
    import trafilatura

    text = trafilatura.extract(html, include_comments=False, include_tables=True, favor_recall=True)
    found = trafilatura.extract_metadata(html)
    headline = _headline(html)
    if not found:
        return text or "", Metadata(title=headline)
    return text or "", Metadata(
        headline or found.title or None,
        found.sitename or None,
        iso_date(found.date),
        found.author or None,
        found.url or None,
    )


def _headline(html: str) -> str | None:
    """The text of the page's one <h1>: the headline as the reader sees it (og:title and <title> are often
    shortened or carry the site's name)."""
    import lxml.html

    try:
        found = [" ".join(h.text_content().split()) for h in lxml.html.fromstring(html).iter("h1")]
    except (ValueError, lxml.etree.ParserError):
        return None
    return found[0] if len(found) == 1 and 0 < len(found[0]) <= 300 else None


def _read_pdf(raw: bytes) -> tuple[str, tuple[int, ...], Metadata]:
    """A PDF's text layer, page after page (a blank line between pages), where each page starts, and its title and author."""
    import pypdf

    try:
        pdf = pypdf.PdfReader(io.BytesIO(raw))
        if pdf.is_encrypted and not pdf.decrypt(""):
            raise UnreadableFileError("the PDF is encrypted: save it without a password first")
        pages = [
            (page.extract_text() or "").encode("utf-8", "replace").decode("utf-8").replace("\x00", "")
            for page in pdf.pages
        ]
        info = pdf.metadata or {}
    except UnreadableFileError:
        raise
    except Exception as exc:  # pypdf raises many kinds on a damaged file
        raise UnreadableFileError(f"not a readable PDF ({exc})") from exc
    if not any(page.strip() for page in pages):
        raise UnreadableFileError(
            "the PDF has no text layer (scanned pages are images): run it through OCR first, e.g. ocrmypdf"
        )
    starts, text = [], ""
    for page in pages:
        text += "\n\n" if text else ""
        starts.append(len(text))
        text += page.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    title, author = (str(info.get(key) or "").strip() or None for key in ("/Title", "/Author"))
    return text, tuple(starts), Metadata(title=title, author=author)


def _blocks(
    text: str, skipped: list[tuple[int, int]], headline: tuple[int, int] | None, wrapped: bool
) -> tuple[tuple[int, int], ...]:
    """The article's lines (stripped), outside the skipped ranges, with a headline glued to its line made a block of
    its own; in `wrapped` text (a PDF's lines, hard-wrapped paragraphs) a line that does not end a sentence runs on
    into the next, so that sentences are not cut at line ends."""
    starts = sorted(a for a, _ in skipped)
    ends = {a: b for a, b in skipped}
    blocks: list[tuple[int, int]] = []
    runs_on = False
    for line in LINE.finditer(text):
        start, end = (
            line.start() + len(line.group()) - len(line.group().lstrip()),
            line.start() + len(line.group().rstrip()),
        )
        at = bisect.bisect_right(starts, start) - 1
        if start >= end or (at >= 0 and start < ends[starts[at]]):
            runs_on = False
            continue
        if headline and start <= headline[0] < headline[1] < end:
            blocks.append(headline)
            start = headline[1] + len(text[headline[1] : end]) - len(text[headline[1] : end].lstrip())
        if runs_on and blocks and not text[blocks[-1][1] : start].count("\n") > 1:
            blocks[-1] = (blocks[-1][0], end)
        else:
            blocks.append((start, end))
        runs_on = (
            wrapped
            and end - start >= 40
            and (start, end) != headline
            and not _ENDS_SENTENCE_OR_CLAUSE.search(text[start:end])
        )  # a heading does not
    return tuple(blocks)


def _hard_wrapped(text: str) -> bool:
    """Whether the text's paragraphs are broken into lines of similar length, most not ending a sentence."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    wrapped = [line for line in lines if 30 <= len(line) <= 100 and not _ENDS_SENTENCE_OR_CLAUSE.search(line)]
    return len(lines) >= 5 and len(wrapped) >= 0.5 * len(lines)


def parse_document(doc_id: str, raw: bytes, details: Metadata | None = None) -> Document:
    """Turn one file's bytes into a Document, or raise UnreadableFileError saying why; `details`: what a person
    set for the article (rag/details.py), over what its text states."""
    suffix = Path(doc_id).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnreadableFileError(f"unsupported file type {suffix or '(none)'!r}; use .txt, .md, .html or .pdf")
    if len(raw) > MAX_FILE_BYTES:
        raise UnreadableFileError(f"file is {len(raw):,} bytes; the limit is {MAX_FILE_BYTES:,}")
    declared, opening, pages = Metadata(), 0, None
    if suffix in PDF_SUFFIXES:
        text, pages, declared = _read_pdf(raw)
    else:
        text, encoding = decode_text(raw)
        if encoding in _GUESSED_ENCODINGS:  # a byte-order mark is a declaration, not a guess
            log.warning("%s is not valid UTF-8; decoded it as %s", doc_id, encoding)
        text, declared = _extract_html(text) if suffix in HTML_SUFFIXES else (text, Metadata())
        if suffix in TEXT_SUFFIXES:
            declared, opening = front_matter(text)
    if not text.strip():
        raise UnreadableFileError("empty file (no text to index)")
    skipped = [(0, opening)] * bool(opening) + BoilerplateFinder().run(text)
    found, headline = TextMetadata().run(text, skipped)
    meta = (details or Metadata()).merged(declared.merged(found))
    blocks = _blocks(text, skipped, headline, wrapped=suffix in PDF_SUFFIXES or _hard_wrapped(text))
    if not blocks:
        raise UnreadableFileError(
            "no article text (only front matter or page furniture such as sign-up and comment lines)"
        )
    title = _shortened(meta.title or text[blocks[0][0] : blocks[0][1]]) or Path(doc_id).stem
    return Document(doc_id, text, hashlib.sha256(raw).hexdigest(), replace(meta, title=title), blocks, pages)


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
        raise UnreadableFileError(
            "dangling symlink (its target does not exist)" if path.is_symlink() else "no such file"
        )
    return real


def read_document(
    doc_id: str, path: Path, root: str | Path | None = None, details: Metadata | None = None
) -> Document | SkippedFile:
    """The file as a Document, or a SkippedFile saying why it cannot be one (and a logged warning).

    With the corpus `root`, the path must lead to a file inside it; checked as the file is read,
    so a file swapped for a symlink after a scan is still refused. The details set for the file in its folder's
    sidecar (rag/details.py), or `details` when given, are laid over what its text states."""
    from .details import details_of

    try:
        real = path if root is None else inside_corpus(root, path)
        return parse_document(doc_id, real.read_bytes(), details_of(real) if details is None else details)
    except (UnreadableFileError, OSError) as exc:
        log.warning("skipped %s: %s", doc_id, exc)
        return SkippedFile(doc_id, str(exc))
