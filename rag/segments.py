"""One immutable part of an index: the chunks of some documents, their vectors and their BM25 terms.

Layout of a segment folder::

    rows.sqlite   documents (full text), chunks and sentences; a chunk's id is its row number here
    vectors.npy   float32 (n_chunks, dimension), normalised; row i is chunk i; memory-mapped when read
    bm25/         bm25s index of the chunks' stemmed terms (rows as above); memory-mapped when read
    ivf.faiss     from ANN_MIN_CHUNKS chunks on: a FAISS IVF-Flat index of the vectors (4·√n lists), memory-mapped
    segment.json  its counts and the size and sha256 of every file above, which the commit records

Every file's checksum is recorded when the segment is finished: `verify_files` checks sizes always
and contents where that is cheap (at open) or everywhere (merges, `rag check`, `rag index`), and
every text that leaves a segment is checked against its document's recorded text sha256, so a
damaged index is reported, never quoted.

A segment is written under a hidden temporary name and renamed into place when whole, and never
changes after: deletions and merges are recorded by the commit that lists the live segments
(rag/store.py). A segment's chunk row plus the commit's offset for it make the global chunk id.
Lexical scores use the segment's own term statistics, as Elasticsearch shards do by default; the
merge policy keeps most chunks in few large segments.
"""

from __future__ import annotations

import bisect
import datetime
import hashlib
import json
import logging
import math
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .chunking import ChunkedText
from .documents import Document, page_of
from .files import sha256_of
from .filters import Filters
from .lexical import Analyzer
from .metadata import Metadata

ANN_MIN_CHUNKS = 50_000  # below this, exact search over the memory-mapped vectors takes under ~3 ms
IVF_PROBES = 32  # lists searched per question (docs/decisions/2026-11-24-approximate-index.md)
EXACT_FILTERED_ROWS = 20_000  # a filter passing at most this many chunks of a segment is searched exactly over them
ADMITTED_CACHE = 8  # filters whose chunk masks a segment keeps
TEMPORARY_PREFIX = ".tmp-"
CHEAP_CHECK_BYTES = 32 * 1024 * 1024  # files up to this size are hashed whenever a segment is opened (~17 ms each)

_SCHEMA = """
CREATE TABLE documents (id TEXT PRIMARY KEY, title TEXT NOT NULL, text TEXT NOT NULL, sha256 TEXT NOT NULL,
                        n_chunks INTEGER NOT NULL, text_sha256 TEXT NOT NULL,
                        outlet TEXT, published TEXT, author TEXT, url TEXT, pages TEXT);
CREATE TABLE chunks (id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL, position INTEGER NOT NULL, start INTEGER NOT NULL,
                     end INTEGER NOT NULL, first_sentence INTEGER NOT NULL, last_sentence INTEGER NOT NULL);
CREATE TABLE sentences (doc_id TEXT NOT NULL, position INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
                        line INTEGER NOT NULL, PRIMARY KEY (doc_id, position)) WITHOUT ROWID;
CREATE INDEX chunks_doc ON chunks(doc_id);
"""


class DamagedSegmentError(ValueError):
    """A segment's files or rows are not what was written (the store turns this into IndexCorruptError)."""

    def __init__(self, segment: str, problems: list[str]):
        super().__init__(f"segment {segment}: " + "; ".join(problems))
        self.segment = segment
        self.problems = problems


@dataclass(frozen=True)
class Hit:
    """A chunk found by a search: its global id and the retriever's score."""

    chunk_id: int
    score: float


@dataclass(frozen=True)
class StoredDocument:
    id: str
    text: str
    sha256: str
    n_chunks: int
    meta: Metadata
    pages: tuple[int, ...] | None = None  # a PDF's page starts in `text`

    def page_of(self, offset: int) -> int | None:
        """The 1-based page holding a character offset (None: not read from pages)."""
        return page_of(self.pages, offset)


@dataclass(frozen=True)
class DocumentInfo:
    id: str
    sha256: str
    n_chunks: int
    meta: Metadata


@dataclass(frozen=True)
class StoredChunk:
    id: int
    doc_id: str
    start: int
    end: int
    text: str
    first_sentence: int
    last_sentence: int
    meta: Metadata  # its document's, for citations


@dataclass(frozen=True)
class StoredSentence:
    doc_id: str
    position: int
    start: int
    end: int
    line: int
    text: str


class SegmentWriter:
    """Writes one new segment: documents with their chunks and vectors, or the live rows of older segments.

    Nothing is visible under the final name until `finish()`; `abort()` (or a crash) leaves only a
    temporary folder, which the next writer of the index removes."""

    def __init__(self, segments_dir: Path, dimension: int):
        self.segments_dir = segments_dir
        self.dimension = dimension
        self.analyzer = Analyzer()
        self.name = f"seg-{time.time_ns():x}-{os.getpid()}"
        self.directory = segments_dir / f"{TEMPORARY_PREFIX}{self.name}"
        self.directory.mkdir(parents=True)
        self.db = sqlite3.connect(self.directory / "rows.sqlite", uri=True)
        self.db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + _SCHEMA)
        self._vectors: list[np.ndarray] = []
        self.n_chunks = 0
        self.n_documents = 0

    def add(self, document: Document, chunked: ChunkedText, vectors: np.ndarray) -> None:
        newlines = [i for i, ch in enumerate(document.text) if ch == "\n"]
        self.db.execute(
            "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                document.id,
                document.meta.title,
                document.text,
                document.sha256,
                len(chunked.chunks),
                text_sha256(document.text),
                *document.meta.astuple()[1:],
                json.dumps(document.pages) if document.pages else None,
            ),
        )
        self.db.executemany(
            "INSERT INTO sentences VALUES (?, ?, ?, ?, ?)",
            [
                (document.id, position, s.start, s.end, bisect.bisect_left(newlines, s.start) + 1)
                for position, s in enumerate(chunked.sentences)
            ],
        )
        self.db.executemany(
            "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (self.n_chunks + i, document.id, c.position, c.start, c.end, c.first_sentence, c.last_sentence)
                for i, c in enumerate(chunked.chunks)
            ],
        )
        self._append(vectors)
        self.n_documents += 1

    def copy_live(self, segment: Segment, deleted: Iterable[str]) -> None:
        """Append the rows of `segment` whose documents are not `deleted` (a merge)."""
        self.db.commit()
        self.db.execute("ATTACH DATABASE ? AS old", (_read_only_uri(segment.directory / "rows.sqlite"),))
        try:
            self.db.execute("CREATE TEMP TABLE gone (id TEXT PRIMARY KEY)")
            self.db.executemany("INSERT INTO gone VALUES (?)", [(d,) for d in deleted])
            live = "doc_id NOT IN (SELECT id FROM temp.gone)"
            rows = [r for (r,) in self.db.execute(f"SELECT id FROM old.chunks WHERE {live} ORDER BY id")]
            self.db.execute(
                "INSERT INTO documents SELECT * FROM old.documents WHERE id NOT IN (SELECT id FROM temp.gone)"
            )
            self.db.execute(f"INSERT INTO sentences SELECT * FROM old.sentences WHERE {live}")
            self.db.execute(
                "CREATE TEMP TABLE renumbered AS SELECT id AS old_id, "
                f"ROW_NUMBER() OVER (ORDER BY id) - 1 + ? AS new_id FROM old.chunks WHERE {live}",
                (self.n_chunks,),
            )
            self.db.execute(
                "INSERT INTO chunks SELECT r.new_id, c.doc_id, c.position, c.start, c.end, c.first_sentence,"
                " c.last_sentence FROM old.chunks c JOIN temp.renumbered r ON c.id = r.old_id"
            )
            self.n_documents += self.db.execute(
                "SELECT COUNT(*) FROM old.documents WHERE id NOT IN (SELECT id FROM temp.gone)"
            ).fetchone()[0]
            self.db.execute("DROP TABLE temp.gone")
            self.db.execute("DROP TABLE temp.renumbered")
            self.db.commit()
        finally:
            self.db.execute("DETACH DATABASE old")
        self._append(np.asarray(segment.vectors[np.array(rows, dtype=np.int64)]))

    def relabel(self, segment: Segment, doc_id: str, sha256: str, meta: Metadata) -> None:
        """Append one document's rows from `segment` with new details (`meta`) and fingerprint, its text, chunks,
        sentences and vectors as they are: nothing is chunked or embedded again (rag/details.py)."""
        self.db.commit()
        self.db.execute("ATTACH DATABASE ? AS old", (_read_only_uri(segment.directory / "rows.sqlite"),))
        try:
            rows = [r for (r,) in self.db.execute("SELECT id FROM old.chunks WHERE doc_id = ? ORDER BY id", (doc_id,))]
            self.db.execute(
                "INSERT INTO documents SELECT id, ?, text, ?, n_chunks, text_sha256, ?, ?, ?, ?, pages "
                "FROM old.documents WHERE id = ?",
                (meta.title, sha256, *meta.astuple()[1:], doc_id),
            )
            self.db.execute("INSERT INTO sentences SELECT * FROM old.sentences WHERE doc_id = ?", (doc_id,))
            self.db.execute(
                "INSERT INTO chunks SELECT id - ? + ?, doc_id, position, start, end, first_sentence, last_sentence "
                "FROM old.chunks WHERE doc_id = ?",
                (rows[0] if rows else 0, self.n_chunks, doc_id),
            )  # a document's chunks are numbered in one run
            self.db.commit()
        finally:
            self.db.execute("DETACH DATABASE old")
        self.n_documents += 1
        self._append(np.asarray(segment.vectors[np.array(rows, dtype=np.int64)]))

    def _append(self, vectors: np.ndarray) -> None:
        if len(vectors):
            self._vectors.append(np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dimension))
            self.n_chunks += len(vectors)

    def finish(self) -> str:
        """Write vectors, BM25 terms and (when large) the IVF index and record their checksums in segment.json;
        rename into place; return the name."""
        self.db.commit()
        vectors = np.concatenate(self._vectors) if self._vectors else np.zeros((0, self.dimension), np.float32)
        if (
            len(vectors) != self.n_chunks
            or self.db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0] != self.n_chunks
        ):
            raise ValueError("chunk rows and vectors disagree")
        np.save(self.directory / "vectors.npy", vectors)
        if self.n_chunks:
            self._write_bm25()
        self.db.close()
        if self.n_chunks >= ANN_MIN_CHUNKS:
            _write_ivf(vectors, self.directory / "ivf.faiss")
        for path in self.directory.rglob("*"):
            fsync(path)
        (self.directory / "segment.json").write_text(
            json.dumps(
                {"chunks": self.n_chunks, "documents": self.n_documents, "files": file_checksums(self.directory)}
            )
        )
        fsync(self.directory / "segment.json")
        fsync(self.directory)
        final = self.segments_dir / self.name
        os.rename(self.directory, final)
        fsync(self.segments_dir)
        self.directory = final
        return self.name

    def _write_bm25(self) -> None:
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.ERROR)  # it warns on every index build
        texts = [
            t
            for (t,) in self.db.execute(
                "SELECT substr(d.text, c.start + 1, c.end - c.start) FROM chunks c JOIN documents d ON d.id = c.doc_id ORDER BY c.id"
            )
        ]
        index = bm25s.BM25()
        index.index(self.analyzer.run(texts, as_ids=True), show_progress=False)
        index.save(self.directory / "bm25", show_progress=False)

    def abort(self) -> None:
        try:
            self.db.close()
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)


def _write_ivf(vectors: np.ndarray, path: Path) -> None:
    """An inverted-file index: k-means lists trained on (a sample of) the segment's own vectors."""
    import faiss

    lists = int(4 * np.sqrt(len(vectors)))
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(vectors.shape[1]), vectors.shape[1], lists, faiss.METRIC_INNER_PRODUCT)
    sample = np.random.default_rng(0).choice(len(vectors), min(len(vectors), 50 * lists), replace=False)
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(os.cpu_count() or 1)  # questions use one thread; a build uses them all
    try:
        index.train(vectors[np.sort(sample)])
        index.add(vectors)
    finally:
        faiss.omp_set_num_threads(threads)
    faiss.write_index(index, str(path))


class Segment:
    """A segment opened for reading: vectors, BM25 and IVF memory-mapped, rows fetched from SQLite on demand.

    `deleted`: ids of documents deleted from it since it was written (their chunks are never returned)."""

    def __init__(self, directory: Path, deleted: Iterable[str] = ()):
        import bm25s
        import faiss

        self.directory = directory
        self.name = directory.name
        self.deleted = frozenset(deleted)
        self.vectors = np.load(directory / "vectors.npy", mmap_mode="r")
        self._db = sqlite3.connect(_read_only_uri(directory / "rows.sqlite"), uri=True, check_same_thread=False)
        self._db.create_function("text_ok", 2, lambda text, sha: text_sha256(text) == sha, deterministic=True)
        self._lock = threading.Lock()
        self.n_chunks = len(self.vectors)
        last = self._query("SELECT MAX(id) FROM chunks")[0][0]
        self._query("SELECT 1 FROM documents, sentences LIMIT 1")  # both tables are there
        if (last if last is not None else -1) != self.n_chunks - 1:
            raise ValueError(f"segment {self.name}: {self.n_chunks} vectors but chunk rows up to {last}")
        gone = self._rows_of(self.deleted)
        self._live = np.ones(self.n_chunks, dtype=bool)
        self._live[gone] = False
        self._n_deleted = len(gone)
        self.ann = None
        if (directory / "ivf.faiss").is_file():
            self.ann = faiss.read_index(str(directory / "ivf.faiss"), faiss.IO_FLAG_MMAP)
            self._gone = faiss.IDSelectorBatch(gone)  # kept referenced: the search parameters point to it
            self._live_only = faiss.IDSelectorNot(self._gone)
            self._ann_parameters = faiss.SearchParametersIVF(nprobe=IVF_PROBES, sel=self._live_only)
        self.bm25 = bm25s.BM25.load(directory / "bm25", mmap=True, show_progress=False) if self.n_chunks else None
        self._article_columns = None  # built on the first filtered question
        self._articles_lock = threading.Lock()
        self._admitted: dict[Filters, np.ndarray] = {}

    def _query(self, sql: str, parameters: Iterable = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, tuple(parameters)).fetchall()

    def _rows_of(self, doc_ids: Iterable[str]) -> np.ndarray:
        doc_ids = list(doc_ids)
        rows = [
            r
            for first in range(0, len(doc_ids), 500)
            for (r,) in self._query(
                f"SELECT id FROM chunks WHERE doc_id IN ({','.join('?' * len(doc_ids[first : first + 500]))})",
                doc_ids[first : first + 500],
            )
        ]
        return np.array(rows, dtype=np.int64)

    @property
    def n_live(self) -> int:
        return self.n_chunks - self._n_deleted

    def admitted(self, filters: Filters | None) -> np.ndarray | None:
        """Which chunks are live and of an article that passes the filters (None: no filter); the last
        ADMITTED_CACHE filters' masks are kept."""
        if not filters:
            return None
        with self._lock:
            if (mask := self._admitted.get(filters)) is not None:
                self._admitted[filters] = self._admitted.pop(filters)  # most recently used last
                return mask
        days, outlets, names = self._articles()
        mask = self._live.copy()
        if filters.after:
            mask &= days >= datetime.date.fromisoformat(filters.after).toordinal()
        if filters.before:
            mask &= (days >= 0) & (days < datetime.date.fromisoformat(filters.before).toordinal())
        if filters.outlets is not None:
            mask &= np.isin(outlets, [i for i, name in enumerate(names) if name in filters.outlets])
        mask.setflags(write=False)
        with self._lock:
            self._admitted[filters] = mask
            while len(self._admitted) > ADMITTED_CACHE:
                self._admitted.pop(next(iter(self._admitted)))
        return mask

    def _articles(self) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """Per chunk: its article's publication day (ordinal, -1 unknown) and outlet (index into the names, -1 unknown)."""
        with self._articles_lock:
            if self._article_columns is None:
                days, outlets = np.full(self.n_chunks, -1, dtype=np.int32), np.full(self.n_chunks, -1, dtype=np.int32)
                names: dict[str, int] = {}
                for first, last, published, outlet in self._query(
                    "SELECT MIN(c.id), MAX(c.id), d.published, d.outlet FROM chunks c JOIN documents d ON d.id = c.doc_id "
                    "GROUP BY c.doc_id"
                ):  # a document's chunks are numbered in one run
                    if published:
                        days[first : last + 1] = datetime.date.fromisoformat(published).toordinal()
                    if outlet:
                        outlets[first : last + 1] = names.setdefault(outlet.casefold(), len(names))
                self._article_columns = days, outlets, list(names)
            return self._article_columns

    def search(self, vector: np.ndarray, k: int, admitted: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(row, cosine) of the k live chunks closest to a normalised vector, among the `admitted` ones when given
        (see `admitted`): IVF when built, else exact."""
        passing = self.n_live if admitted is None else int(admitted.sum())
        k = min(k, passing)
        if k <= 0:
            return []
        if admitted is not None and (self.ann is None or passing <= EXACT_FILTERED_ROWS):
            rows = np.flatnonzero(admitted)  # few enough to compare with every one: all k come back
            scores = np.asarray(self.vectors[rows]) @ vector
            return [(int(rows[i]), float(scores[i])) for i in _top(scores, k)]
        if self.ann is not None:
            import faiss

            faiss.omp_set_num_threads(1)  # per calling thread; one thread searched faster than two
            parameters, bits = self._ann_parameters, None
            if admitted is not None:  # more lists probed as fewer chunks pass, so k of them are still found
                bits = np.packbits(admitted, bitorder="little")  # referenced until the search returns
                probes = min(self.ann.nlist, math.ceil(IVF_PROBES * len(admitted) / passing))
                parameters = faiss.SearchParametersIVF(
                    nprobe=probes, sel=faiss.IDSelectorBitmap(len(bits), faiss.swig_ptr(bits))
                )
            scores, rows = self.ann.search(vector.reshape(1, -1), k, params=parameters)
            del bits
            return [(int(r), float(s)) for r, s in zip(rows[0], scores[0]) if r >= 0]
        scores = self.vectors @ vector
        if self._n_deleted:
            scores[~self._live] = -np.inf
        return [(int(r), float(scores[r])) for r in _top(scores, k)]

    def lexical(self, terms: list[str], k: int, admitted: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(row, BM25 score) of the k live chunks that best match stemmed query terms, among the `admitted` ones when given."""
        k = min(k, self.n_live if admitted is None else int(admitted.sum()))
        if not terms or k <= 0 or self.bm25 is None:
            return []
        scores = self.bm25.get_scores(terms)  # bm25s's own top-k selection took 9 ms at 2·10^5 chunks, this 0.5
        if admitted is not None:
            scores[~admitted] = 0
        elif self._n_deleted:
            scores[~self._live] = 0
        return [(int(r), float(scores[r])) for r in _top(scores, k) if scores[r] > 0]

    def chunks(self, rows: list[int]) -> dict[int, StoredChunk]:
        """Chunk rows with their text (cut from the document inside SQLite, which must match its checksum), keyed by row."""
        found = {}
        for first in range(0, len(rows), 500):
            batch = rows[first : first + 500]
            found.update(
                (row[0], StoredChunk(*row[:7], Metadata(*row[7:12])))
                for row in self._checked(
                    self._query(
                        "SELECT c.id, c.doc_id, c.start, c.end, substr(d.text, c.start + 1, c.end - c.start), c.first_sentence, "
                        "c.last_sentence, d.title, d.outlet, d.published, d.author, d.url, text_ok(d.text, d.text_sha256) "
                        "FROM chunks c JOIN documents d ON d.id = c.doc_id "
                        f"WHERE c.id IN ({','.join('?' * len(batch))})",
                        batch,
                    ),
                    doc=1,
                )
            )
        if len(found) != len(set(rows)):
            raise DamagedSegmentError(
                self.name, [f"chunk rows {sorted(set(rows) - set(found))} or their documents are missing"]
            )
        return found

    def _checked(self, rows: list[tuple], doc: int) -> list[tuple]:
        """The rows, whose last column says whether their document's text matches its recorded sha256."""
        damaged = sorted({row[doc] for row in rows if not row[-1]})
        if damaged:
            raise DamagedSegmentError(
                self.name, [f"the text of {', '.join(damaged)} does not match its recorded sha256"]
            )
        return rows

    def document(self, doc_id: str) -> StoredDocument | None:
        if doc_id in self.deleted:
            return None
        rows = self._checked(
            self._query(
                "SELECT id, title, text, sha256, n_chunks, outlet, published, author, url, pages, text_ok(text, text_sha256) "
                "FROM documents WHERE id = ?",
                (doc_id,),
            ),
            doc=0,
        )
        if not rows:
            return None
        doc_id, title, text, sha256, n_chunks, outlet, published, author, url, pages, _ = rows[0]
        return StoredDocument(
            doc_id,
            text,
            sha256,
            n_chunks,
            Metadata(title, outlet, published, author, url),
            tuple(json.loads(pages)) if pages else None,
        )

    def hashes(self, doc_ids: list[str] | None = None) -> dict[str, str]:
        """Live document id → sha256 of its file, for every document or those of `doc_ids` held here."""
        if doc_ids is None:
            rows = self._query("SELECT id, sha256 FROM documents")
        else:
            rows = [
                row
                for first in range(0, len(doc_ids), 500)
                for row in self._query(
                    f"SELECT id, sha256 FROM documents WHERE id IN ({','.join('?' * len(doc_ids[first : first + 500]))})",
                    doc_ids[first : first + 500],
                )
            ]
        return {doc_id: sha for doc_id, sha in rows if doc_id not in self.deleted}

    def documents(self) -> list[DocumentInfo]:
        return [
            DocumentInfo(doc_id, sha256, n_chunks, Metadata(*meta))
            for doc_id, sha256, n_chunks, *meta in self._query(
                "SELECT id, sha256, n_chunks, title, outlet, published, author, url FROM documents ORDER BY id"
            )
            if doc_id not in self.deleted
        ]

    def rows_from(self, doc_id: str, offset: int, n: int) -> list[int]:
        """The rows of the first `n` chunks of a document that end after a character offset, in document order."""
        if doc_id in self.deleted:
            return []
        return [
            row
            for (row,) in self._query(
                "SELECT id FROM chunks WHERE doc_id = ? AND end > ? ORDER BY start LIMIT ?", (doc_id, offset, n)
            )
        ]

    def sentences(self, doc_id: str, first: int, last: int) -> list[StoredSentence]:
        """Sentences `first`..`last` (positions) of a document, with their text."""
        return [
            StoredSentence(*row[:-1])
            for row in self._checked(
                self._query(
                    "SELECT s.doc_id, s.position, s.start, s.end, s.line, substr(d.text, s.start + 1, s.end - s.start), "
                    "text_ok(d.text, d.text_sha256) FROM sentences s JOIN documents d ON d.id = s.doc_id "
                    "WHERE s.doc_id = ? AND s.position BETWEEN ? AND ? ORDER BY s.position",
                    (doc_id, first, last),
                ),
                doc=0,
            )
        ]

    def check(self) -> list[str]:
        """What is wrong inside the segment, read in full (`rag check`): SQLite's own integrity check, every
        document text against its sha256, chunk and sentence offsets, vectors, and the BM25 and IVF row counts."""
        problems = [f"rows.sqlite: {row}" for (row,) in self._query("PRAGMA integrity_check") if row != "ok"]
        problems += [
            f"the text of {doc_id} does not match its recorded sha256"
            for (doc_id,) in self._query("SELECT id FROM documents WHERE NOT text_ok(text, text_sha256)")
        ]
        for table in ("chunks", "sentences"):
            outside = self._query(
                f"SELECT COUNT(*) FROM {table} t LEFT JOIN documents d ON d.id = t.doc_id "
                "WHERE d.id IS NULL OR t.start < 0 OR t.end > length(d.text) OR t.start >= t.end"
            )[0][0]
            if outside:
                problems.append(f"{outside} {table} point outside their document")
        norms = np.linalg.norm(self.vectors, axis=1) if self.n_chunks else np.ones(0)
        if not np.all(np.abs(norms - 1) < 1e-3):
            problems.append(f"{int(np.sum(~(np.abs(norms - 1) < 1e-3)))} vectors are not unit length")
        if self.bm25 is not None and self.bm25.scores["num_docs"] != self.n_chunks:
            problems.append(f"bm25 holds {self.bm25.scores['num_docs']} rows, not {self.n_chunks}")
        if self.ann is not None and self.ann.ntotal != self.n_chunks:
            problems.append(f"ivf.faiss holds {self.ann.ntotal} vectors, not {self.n_chunks}")
        return problems

    def close(self) -> None:
        self._db.close()


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k highest scores, highest first."""
    top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    return top[np.argsort(-scores[top])]


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_checksums(directory: Path) -> dict[str, list]:
    """[size, sha256] of every file of a segment folder but segment.json, by path relative to it."""
    return {
        path.relative_to(directory).as_posix(): [path.stat().st_size, sha256_of(path)]
        for path in sorted(directory.rglob("*"))
        if path.is_file() and path.name != "segment.json"
    }


def verify_files(directory: Path, files: dict[str, list], full: bool) -> list[str]:
    """What is wrong with a segment's files against their recorded [size, sha256]: every size is checked, and
    the contents of files up to CHEAP_CHECK_BYTES (all of them when `full`). [] when nothing is."""
    if not files:
        return ["no checksums recorded"]
    problems = []
    for name, (size, sha) in files.items():
        path = directory / name
        if not path.is_file():
            problems.append(f"{name} is missing")
        elif path.stat().st_size != size:
            problems.append(f"{name} is {path.stat().st_size:,} bytes, {size:,} were written")
        elif (full or size <= CHEAP_CHECK_BYTES) and sha256_of(path) != sha:
            problems.append(f"{name} does not match its recorded sha256")
    return problems


def _read_only_uri(path: Path) -> str:
    return f"{path.resolve().as_uri()}?mode=ro"


def fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
