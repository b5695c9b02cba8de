"""The index on disk: a FAISS index of chunk vectors, an SQLite database of documents, chunks
and sentences, and a manifest saying how it was built.

Layout of an index folder::

    CURRENT           name of the live generation; replaced atomically, last, by a build
    gen-<n>/          one complete generation
      manifest.json   format version, model, dimension, chunker settings, sha256 per document
      store.sqlite    documents (full text), chunks and sentences with offsets
      chunks.faiss    IndexIDMap2(IndexFlatIP) over normalised chunk vectors; ids = chunk row ids
    .lock             held by the one writer

A build writes a new generation beside the live one and swaps CURRENT at the end, so a crash
at any point leaves the previous index whole and usable.
"""

from __future__ import annotations

import bisect
import contextlib
import fcntl
import json
import os
import shutil
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .chunking import ChunkedText
from .documents import Document
from .errors import IndexCorruptError, IndexIncompatibleError, IndexNotFoundError

FORMAT_VERSION = 3  # 3: no sentence vectors or entities (the reader answers)
_SCHEMA = """
CREATE TABLE documents (id TEXT PRIMARY KEY, title TEXT NOT NULL, text TEXT NOT NULL, sha256 TEXT NOT NULL);
CREATE TABLE chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT, doc_id TEXT NOT NULL REFERENCES documents(id),
    position INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
    first_sentence INTEGER NOT NULL, last_sentence INTEGER NOT NULL, n_tokens INTEGER NOT NULL);
CREATE TABLE sentences (
    id INTEGER PRIMARY KEY AUTOINCREMENT, doc_id TEXT NOT NULL REFERENCES documents(id),
    position INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL, line INTEGER NOT NULL);
CREATE INDEX chunks_doc ON chunks(doc_id);
CREATE INDEX sentences_doc ON sentences(doc_id, position);
"""


def rebuild_hint(index_dir: str | Path) -> str:
    return f"rebuild it with: rag index CORPUS_DIR --index-dir {index_dir} --rebuild"


@dataclass(frozen=True)
class Manifest:
    format_version: int
    model: str
    dimension: int
    chunker: dict
    documents: dict[str, str] = field(default_factory=dict)

    def check_compatible(self, model: str, chunker: dict, index_dir: str | Path) -> None:
        """Raise unless chunks and vectors made with these settings could join this index."""
        for what, mine, theirs in (("model", self.model, model), ("chunker settings", self.chunker, chunker)):
            if mine != theirs:
                raise IndexIncompatibleError(
                    f"the index at {index_dir} was built with {what} {mine!r}, not {theirs!r}; {rebuild_hint(index_dir)}"
                )


@dataclass(frozen=True)
class StoredDocument:
    id: str
    title: str
    text: str
    sha256: str
    n_chunks: int


@dataclass(frozen=True)
class StoredSentence:
    row: int
    doc_id: str
    position: int
    start: int
    end: int
    line: int
    text: str


@dataclass(frozen=True)
class StoredChunk:
    id: int
    doc_id: str
    start: int
    end: int
    text: str
    sentence_rows: range


def _live_generation(index_dir: Path) -> Path | None:
    try:
        name = (index_dir / "CURRENT").read_text().strip()
    except FileNotFoundError:
        return None
    return index_dir / name


def _unreadable(index_dir: str | Path, exc: Exception) -> IndexCorruptError:
    return IndexCorruptError(f"the index at {index_dir} is unreadable ({exc}); {rebuild_hint(index_dir)}")


def _read_manifest(generation: Path, index_dir: str | Path) -> Manifest:
    try:
        data = json.loads((generation / "manifest.json").read_text())
        if data.get("format_version") != FORMAT_VERSION:
            raise IndexIncompatibleError(
                f"the index at {index_dir} has format version {data.get('format_version')!r}; this version of "
                f"Verbatim reads version {FORMAT_VERSION}; {rebuild_hint(index_dir)}"
            )
        return Manifest(**data)
    except (OSError, ValueError, TypeError, AttributeError) as exc:
        raise _unreadable(index_dir, exc) from exc


def read_manifest(index_dir: str | Path) -> Manifest | None:
    """The live manifest, or None when no index has been built there."""
    generation = _live_generation(Path(index_dir))
    return None if generation is None else _read_manifest(generation, index_dir)


@contextlib.contextmanager
def index_lock(index_dir: str | Path) -> Iterator[None]:
    """Held by the one process that updates an index, from reading what is there to swapping in the new one."""
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class IndexStore:
    """A built index read whole into memory. Immutable once opened, so threads may share it."""

    def __init__(self, index_dir: Path, manifest: Manifest, documents: dict[str, StoredDocument],
                 chunks: dict[int, StoredChunk], sentences: list[StoredSentence], chunk_index):
        self.index_dir = index_dir
        self.manifest = manifest
        self.documents = documents
        self.chunks = chunks
        self.sentences = sentences
        self.chunk_index = chunk_index

    @classmethod
    def open(cls, index_dir: str | Path, model: str | None = None) -> IndexStore:
        """Open the live generation; with `model`, refuse an index built with another one."""
        import faiss

        index_dir = Path(index_dir)
        generation = _live_generation(index_dir)
        if generation is None:
            raise IndexNotFoundError(f"no index at {index_dir}; build one with: rag index CORPUS_DIR --index-dir {index_dir}")
        manifest = _read_manifest(generation, index_dir)
        if model is not None:
            manifest.check_compatible(model, manifest.chunker, index_dir)
        try:
            chunk_index = faiss.read_index(str(generation / "chunks.faiss"))
            return cls._read_sqlite(index_dir, generation / "store.sqlite", manifest, chunk_index)
        except (RuntimeError, sqlite3.Error, OSError, ValueError) as exc:
            raise _unreadable(index_dir, exc) from exc

    @classmethod
    def _read_sqlite(cls, index_dir: Path, path: Path, manifest: Manifest, chunk_index) -> IndexStore:
        if not path.is_file():
            raise OSError(f"missing {path.name}")
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            texts = {row[0]: row for row in db.execute("SELECT id, title, text, sha256 FROM documents")}
            sentences, first_row = [], {}
            for row, (doc_id, position, start, end, line) in enumerate(
                db.execute("SELECT doc_id, position, start, end, line FROM sentences ORDER BY doc_id, position")
            ):
                first_row.setdefault(doc_id, row)
                sentences.append(StoredSentence(row, doc_id, position, start, end, line, texts[doc_id][2][start:end]))
            chunks, n_chunks = {}, dict.fromkeys(texts, 0)
            for chunk_id, doc_id, start, end, first, last in db.execute(
                "SELECT id, doc_id, start, end, first_sentence, last_sentence FROM chunks"
            ):
                base = first_row[doc_id]
                chunks[chunk_id] = StoredChunk(chunk_id, doc_id, start, end, texts[doc_id][2][start:end], range(base + first, base + last + 1))
                n_chunks[doc_id] += 1
        finally:
            db.close()
        if chunk_index.ntotal != len(chunks) or chunk_index.d != manifest.dimension or set(texts) != set(manifest.documents):
            raise ValueError("vectors, chunks and manifest disagree")
        documents = {doc_id: StoredDocument(doc_id, title, text, sha, n_chunks[doc_id]) for doc_id, title, text, sha in texts.values()}
        return cls(index_dir, manifest, documents, chunks, sentences, chunk_index)

    def search(self, vector: np.ndarray, k: int) -> list[tuple[StoredChunk, float]]:
        """The k chunks closest to a normalised query vector, best first."""
        if not self.chunks:
            return []
        scores, ids = self.chunk_index.search(vector.reshape(1, -1).astype(np.float32), min(k, len(self.chunks)))
        return [(self.chunks[int(i)], float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]


class IndexWriter:
    """Writes the next generation of an index: copy the live one aside, change it, then swap it in.

    Use as a context manager while holding `index_lock`; nothing is visible to readers until
    `commit()`, and an exception (or a crash) leaves the live generation as it was. The previous
    generation is kept until the next build, so a reader in another process that is opening it
    as the swap happens still finds it whole.
    """

    def __init__(self, index_dir: str | Path, manifest: Manifest, start_empty: bool = False):
        self.index_dir = Path(index_dir)
        self.manifest = manifest
        self.start_empty = start_empty
        self._documents: dict[str, str] = {}
        self._committed = False
        self._previous: Path | None = None

    def __enter__(self) -> IndexWriter:
        import faiss

        live = None if self.start_empty else _live_generation(self.index_dir)
        self.generation = self.index_dir / f"gen-{time.time_ns()}"
        self.generation.mkdir(parents=True)
        try:
            if live is not None:
                self._documents = dict(_read_manifest(live, self.index_dir).documents)
                shutil.copyfile(live / "store.sqlite", self.generation / "store.sqlite")
                self._chunk_index = faiss.read_index(str(live / "chunks.faiss"))
                self.db = sqlite3.connect(self.generation / "store.sqlite")
            else:
                self._chunk_index = faiss.IndexIDMap2(faiss.IndexFlatIP(self.manifest.dimension))
                self.db = sqlite3.connect(self.generation / "store.sqlite")
                self.db.executescript(_SCHEMA)
        except (RuntimeError, sqlite3.Error, OSError) as exc:
            shutil.rmtree(self.generation, ignore_errors=True)
            raise _unreadable(self.index_dir, exc) from exc
        except BaseException:
            shutil.rmtree(self.generation, ignore_errors=True)
            raise
        return self

    def remove(self, doc_id: str) -> None:
        ids = np.array([row[0] for row in self.db.execute("SELECT id FROM chunks WHERE doc_id = ?", (doc_id,))], dtype=np.int64)
        if len(ids):
            self._chunk_index.remove_ids(ids)
        for table in ("chunks", "sentences", "documents"):
            self.db.execute(f"DELETE FROM {table} WHERE {'id' if table == 'documents' else 'doc_id'} = ?", (doc_id,))
        self._documents.pop(doc_id, None)

    def add(self, document: Document, chunked: ChunkedText, chunk_vectors: np.ndarray) -> None:
        self.db.execute("INSERT INTO documents VALUES (?, ?, ?, ?)", (document.id, document.title, document.text, document.sha256))
        newlines = [i for i, ch in enumerate(document.text) if ch == "\n"]
        self.db.executemany(
            "INSERT INTO sentences (doc_id, position, start, end, line) VALUES (?, ?, ?, ?, ?)",
            [(document.id, position, s.start, s.end, bisect.bisect_left(newlines, s.start) + 1)
             for position, s in enumerate(chunked.sentences)],
        )
        ids = []
        for chunk in chunked.chunks:
            cursor = self.db.execute(
                "INSERT INTO chunks (doc_id, position, start, end, first_sentence, last_sentence, n_tokens) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (document.id, chunk.position, chunk.start, chunk.end, chunk.first_sentence, chunk.last_sentence, chunk.n_tokens),
            )
            ids.append(cursor.lastrowid)
        if ids:
            self._chunk_index.add_with_ids(np.ascontiguousarray(chunk_vectors, dtype=np.float32), np.array(ids, dtype=np.int64))
        self._documents[document.id] = document.sha256

    def commit(self) -> None:
        import faiss

        self.db.commit()
        self.db.close()
        faiss.write_index(self._chunk_index, str(self.generation / "chunks.faiss"))
        manifest = Manifest(**{**asdict(self.manifest), "documents": dict(sorted(self._documents.items()))})
        (self.generation / "manifest.json").write_text(json.dumps(asdict(manifest), indent=2))
        for path in self.generation.iterdir():
            _fsync(path)
        _fsync(self.generation)
        self._previous = _live_generation(self.index_dir)
        pointer = self.index_dir / "CURRENT.tmp"
        pointer.write_text(self.generation.name + "\n")
        _fsync(pointer)
        os.replace(pointer, self.index_dir / "CURRENT")
        _fsync(self.index_dir)
        self._committed = True

    def __exit__(self, exc_type, exc, tb) -> None:
        if not self._committed:
            self.db.close()
        keep = {_live_generation(self.index_dir), self._previous}
        for old in self.index_dir.glob("gen-*"):
            if old not in keep:
                shutil.rmtree(old, ignore_errors=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
