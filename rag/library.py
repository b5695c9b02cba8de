"""The corpus folder and its index kept in step: add uploaded articles, remove articles.

Uploads are checked one by one (type, size, readable text, duplicate content) and written
under safe names; a bad file is rejected with its reason while the rest of the batch goes in.
A removed article's file is moved to `<corpus>/.removed/` (hidden folders are not indexed), so
nothing is lost. Index updates run in a child process, so that questions answered meanwhile by this
process keep their speed.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import shutil
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import details
from .documents import inside_corpus, parse_document, read_document
from .embedding import Embedder
from .errors import IndexNotFoundError, RagError, UnreadableFileError
from .files import write_atomically
from .indexing import Indexer, IndexReport
from .metadata import Metadata
from .pipeline import QA, build, reopen
from .reader import Reader
from .shards import for_index, indexed_documents

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
REMOVED_FOLDER = ".removed"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_file_name(name: str) -> str:
    """A plain file name: no folders, no leading dots, only portable characters, lower-case suffix."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = _UNSAFE.sub("_", stem).strip("._-")[:100] or "article"
    return f"{stem}.{suffix.lower()}" if suffix else stem


@dataclass
class UploadResult:
    added: list[str] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    report: IndexReport | None = None


class Library:
    """Owns the corpus folder and the index built from it; one change at a time."""

    def __init__(
        self,
        corpus_dir: str | Path,
        index_dir: str | Path,
        model: str | None = None,
        max_upload_bytes: int = MAX_UPLOAD_BYTES,
        reader: str | Path | None = None,
    ):
        self.corpus_dir = Path(corpus_dir)
        self.index_dir = Path(index_dir)
        self.embedder = Embedder(model)
        self.reader = Reader(reader)
        self.max_upload_bytes = max_upload_bytes
        self._lock = threading.Lock()

    def open(self, show_progress: bool = False, on_progress: Callable[[int, int, str], None] | None = None) -> QA:
        """Bring the index up to date with the folder and open it."""
        with self._lock:
            return self._build(show_progress=show_progress, on_progress=on_progress)

    def add(
        self, files: list[tuple[str, bytes]], on_progress: Callable[[int, int, str], None] | None = None
    ) -> tuple[UploadResult, QA]:
        """Check and store uploaded (name, content) pairs, then index what was accepted."""
        result = UploadResult()
        with self._lock:
            known = self._known_hashes()
            for name, raw in files:
                try:
                    target = self._accept(name, raw, known)
                except UnreadableFileError as exc:
                    result.rejected.append((name, str(exc)))
                    continue
                write_atomically(target, raw)
                known[hashlib.sha256(raw).hexdigest()] = target.name
                result.added.append(target.relative_to(self.corpus_dir).as_posix())
            if not result.added:  # nothing to index: no indexing process
                return result, reopen(self.index_dir, self.embedder, reader=self.reader)
            qa = self._update(on_progress, files=[(name, self.corpus_dir / name) for name in result.added])
        result.report = qa.report
        return result, qa

    def remove(self, doc_id: str) -> QA:
        """Take an article out of the library; its file moves to the .removed folder (and back if indexing fails)."""
        with self._lock:
            path = self._article(doc_id)
            linked = path.is_symlink()
            removed = _unused(self.corpus_dir.resolve() / REMOVED_FOLDER / doc_id)
            removed.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(path, removed)
            try:
                qa = self._update(removed=[doc_id])
            except RagError:
                shutil.move(removed, path)
                raise
            if not linked:  # details set for it would otherwise go to a later article of the same name
                details.forget(path)
            return qa

    def details(self, doc_id: str) -> tuple[Metadata, Metadata]:
        """An article's details as they stand (what its text states, under what was set) and those set."""
        path = self._article(doc_id)
        read = read_document(doc_id, path, self.corpus_dir)
        if not hasattr(read, "meta"):
            raise RagError(f"{doc_id} cannot be read: {read.reason}")
        return read.meta, details.details_of(path)

    def set_details(self, doc_id: str, **fields: str | None) -> QA:
        """Set an article's title, outlet, published (YYYY-MM-DD), author or url where its text does not state
        them (or states them wrongly): a value sets one, "" clears it, None leaves it. They are kept in the sidecar
        of the article's folder (rag/details.py), and the index re-labels the article without embedding it again."""
        with self._lock:
            path = self._article(doc_id)
            details.set_details(path, **fields)
            report = for_index(Indexer(self.embedder), self.index_dir).update_files(
                self.index_dir, files=[(doc_id, path.resolve())]
            )
            return reopen(self.index_dir, self.embedder, report=report, reader=self.reader)

    def _article(self, doc_id: str) -> Path:
        return article_path(self.corpus_dir, doc_id)

    def restore(self, doc_id: str) -> tuple[str, QA]:
        """Bring back the article last removed under `doc_id` from the .removed folder and index it again; its id
        (doc_id, or name-2.ext when another article has taken that name since) and the QA of the updated index."""
        with self._lock:
            root = self.corpus_dir.resolve()
            if Path(doc_id).is_absolute() or ".." in Path(doc_id).parts:
                raise RagError(f"no removed article {doc_id!r} in {self.corpus_dir}")
            removed = _last_moved(root / REMOVED_FOLDER / doc_id)
            if removed is None:
                raise RagError(f"no removed article {doc_id!r} in {self.corpus_dir}")
            target = _unused(root / doc_id)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(removed, target)
            restored = target.relative_to(root).as_posix()
            try:
                return restored, self._update(files=[(restored, target)])
            except RagError:
                shutil.move(target, removed)
                raise

    def _build(self, **options) -> QA:
        """Update the index with the folder, reusing one loaded embedding model and reader across updates."""
        return build(self.corpus_dir, self.index_dir, embedder=self.embedder, reader=self.reader, **options)

    def _update(self, on_progress: Callable[[int, int, str], None] | None = None, **changes) -> QA:
        """Index uploaded files or remove documents without scanning the rest of the folder, then reopen."""
        report = _update_in_child(self.embedder.model_name, self.index_dir, on_progress, **changes)
        return reopen(self.index_dir, self.embedder, report=report, reader=self.reader)

    def _known_hashes(self) -> dict[str, str]:
        """sha256 of every indexed article's bytes → its id (the index keeps them)."""
        try:
            return {details.file_sha256(sha): doc_id for doc_id, sha in indexed_documents(self.index_dir).items()}
        except IndexNotFoundError:
            return {}

    def _accept(self, name: str, raw: bytes, known: dict[str, str]) -> Path:
        """Where an upload goes, or UnreadableFileError saying why it cannot."""
        safe = safe_file_name(name)
        if len(raw) > self.max_upload_bytes:
            raise UnreadableFileError(f"file is {len(raw):,} bytes; uploads are limited to {self.max_upload_bytes:,}")
        duplicate = known.get(hashlib.sha256(raw).hexdigest())
        if duplicate:
            raise UnreadableFileError(f"same content as {duplicate}, already in the library")
        parse_document(safe, raw)  # raises for unsupported types, empty and binary files
        return _unused(self.corpus_dir / safe)


def article_path(corpus_dir: str | Path, doc_id: str) -> Path:
    """The path of an article of the corpus by its id (a symlink stays one), or RagError."""
    root = Path(corpus_dir).resolve()
    path = root / doc_id  # an article read through a symlink is removed as that link, under its own id
    try:
        if Path(doc_id).is_absolute() or ".." in Path(doc_id).parts or not inside_corpus(root, path).is_file():
            raise UnreadableFileError("not a file of the corpus")
    except UnreadableFileError:
        raise RagError(f"no article {doc_id!r} in {corpus_dir}") from None
    return path


def set_details(
    corpus_dir: str | Path, doc_id: str, index_dir: str | Path | None = "index", **fields: str | None
) -> tuple[Metadata, IndexReport | None]:
    """Set an article's details (title, outlet, published, author, url: "" clears one, None leaves it) in its
    folder's sidecar, and re-label it in the index at `index_dir` where that holds it, embedding nothing.
    Returns the article's details as they now stand and the index update's report (None: no index)."""
    from .chunking import SentenceChunker
    from .shards import shard_dirs
    from .store import read_commit

    path = article_path(corpus_dir, doc_id)
    details.set_details(path, **fields)
    report = None
    if (
        index_dir is not None
        and (commit := read_commit((shard_dirs(index_dir) or [index_dir])[0])) is not None
        and indexed_documents(index_dir, [doc_id])  # another corpus's index, or a file not indexed yet: left alone
    ):
        indexer = for_index(Indexer(Embedder(commit.model), SentenceChunker(**commit.chunker)), index_dir)
        report = indexer.update_files(index_dir, files=[(doc_id, path.resolve())])
    read = read_document(doc_id, path, corpus_dir)
    if not hasattr(read, "meta"):
        raise RagError(f"{doc_id} cannot be read: {read.reason}")
    return read.meta, report


def _unused(path: Path) -> Path:
    """The path itself, or name-2.ext, name-3.ext ... when it is taken."""
    candidate, n = path, 2
    while candidate.exists():
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
        n += 1
    return candidate


def _last_moved(path: Path) -> Path | None:
    """The last of the files `_unused` gave for `path` (name.ext, name-2.ext, ...) that is still there, if any."""
    found, n = None, 2
    candidate = path
    while candidate.is_file() or n <= 3:
        if candidate.is_file():
            found = candidate
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
        n += 1
    return found


INDEXING_BATCH = 8  # files embedded together by the indexing process: progress is reported after each batch


def _update_in_child(
    model_name: str, index_dir: Path, on_progress: Callable[[int, int, str], None] | None = None, **changes
) -> IndexReport:
    """Run Indexer.update_files(index_dir, **changes) in a child Python process; its errors are raised here.

    In a thread of this process, sentence splitting (pure Python) would hold the GIL and embedding compete for
    the cores, stalling questions asked meanwhile (docs/performance.md). The child embeds with one onnxruntime thread
    at a lower CPU priority, so a question always has a core; a new child for each change (~1 s to start)
    gives its memory back when done."""
    package_root = str(Path(__file__).resolve().parent.parent)
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",  # one onnxruntime (and BLAS) thread: see rag/embedding.py
        "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])),
    }
    command = [sys.executable, "-c", "from rag.library import serve_update; serve_update()"]
    with subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env) as process:
        try:
            pickle.dump((model_name, str(index_dir), changes), process.stdin)
            process.stdin.close()
            while True:
                kind, value = pickle.load(process.stdout)
                if kind == "report":
                    return value
                if kind == "error":
                    raise value
                if on_progress:
                    on_progress(*value)
        except (OSError, EOFError, pickle.UnpicklingError) as exc:
            raise RagError(
                f"the indexing process stopped (exit status {process.wait()}); the index keeps its last "
                "complete update: try again"
            ) from exc


def serve_update() -> None:
    """The indexing process: reads pickled (model, index folder, changes) from stdin, writes pickled progress,
    then the IndexReport or the error, to stdout."""
    os.nice(10)  # the parent's questions come first
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a stray print goes to stderr, never into the replies

    def send(kind: str, value) -> None:
        pickle.dump((kind, value), replies)
        replies.flush()

    model_name, index_dir, changes = pickle.load(sys.stdin.buffer)
    try:
        indexer = for_index(Indexer(Embedder(model_name), documents_per_batch=INDEXING_BATCH), index_dir)
        send(
            "report",
            indexer.update_files(index_dir, on_progress=lambda *progress: send("progress", progress), **changes),
        )
    except RagError as exc:
        send("error", exc)
    except Exception as exc:
        traceback.print_exc()
        send("error", RuntimeError(f"indexing failed: {exc!r}"))
