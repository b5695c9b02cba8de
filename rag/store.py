"""The index on disk: immutable segments plus one commit file that names the live ones.

Layout of an index folder::

    COMMIT            the live commit (JSON): format version, model, chunker settings, and each live segment
                      with its chunk-id offset and the documents deleted from it; replaced atomically
    segments/<name>/  one immutable segment (rag/segments.py)
    .lock             held by the one writer

An update writes only what changed: new documents go into one new segment, a deleted or changed
document is recorded as deleted from the segment holding it, and `COMMIT` is replaced last, so a
crash at any point leaves the last commit whole. Segments that no commit names any more (merged
away, or left half-written by a crash) are removed by the next writer; the previous commit's are
kept one commit longer, for readers in other processes that are opening it at that moment.

Opening an index maps its vectors and indexes into memory and reads no text: texts come from
SQLite only for the passages a question retrieves, so opening, memory and question time do not
grow with the corpus (figures in eval/bench_scale.py and the README).
"""

from __future__ import annotations

import bisect
import contextlib
import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from .errors import IndexCorruptError, IndexIncompatibleError, IndexNotFoundError
from .segments import TEMPORARY_PREFIX, DocumentInfo, Hit, Segment, SegmentWriter, StoredChunk, StoredDocument, StoredSentence, fsync

FORMAT_VERSION = 4  # 4: segments and a commit file (3 and before: whole-copy generations)
COMMIT_FILE = "COMMIT"
SEGMENTS_DIR = "segments"
MERGE_FACTOR = 10  # this many segments of one size tier (a power of ten of chunks) merge into one

__all__ = ["Commit", "DocumentInfo", "Hit", "IndexStore", "IndexWriter", "LiveSegment", "StoredChunk",
           "StoredDocument", "StoredSentence", "index_lock", "read_commit"]


def rebuild_hint(index_dir: str | Path) -> str:
    return f"rebuild it with: rag index CORPUS_DIR --index-dir {index_dir} --rebuild"


@dataclass(frozen=True)
class LiveSegment:
    """A segment as a commit lists it: global chunk ids `offset` .. `offset + chunks - 1`."""

    name: str
    offset: int
    chunks: int
    documents: int
    deleted: tuple[str, ...] = ()


@dataclass(frozen=True)
class Commit:
    format_version: int
    model: str
    dimension: int
    chunker: dict
    generation: int = 0
    next_offset: int = 0
    segments: tuple[LiveSegment, ...] = ()
    previous: tuple[str, ...] = field(default=())  # segment names of the commit before, kept for its readers

    @classmethod
    def from_json(cls, data: dict) -> Commit:
        return cls(**{**data, "segments": tuple(LiveSegment(**{**s, "deleted": tuple(s["deleted"])}) for s in data["segments"]),
                      "previous": tuple(data["previous"])})

    def check_compatible(self, model: str, chunker: dict, index_dir: str | Path) -> None:
        """Raise unless chunks and vectors made with these settings could join this index."""
        for what, mine, theirs in (("model", self.model, model), ("chunker settings", self.chunker, chunker)):
            if mine != theirs:
                raise IndexIncompatibleError(
                    f"the index at {index_dir} was built with {what} {mine!r}, not {theirs!r}; {rebuild_hint(index_dir)}"
                )



def _unreadable(index_dir: str | Path, exc: Exception) -> IndexCorruptError:
    return IndexCorruptError(f"the index at {index_dir} is unreadable ({exc}); {rebuild_hint(index_dir)}")


def read_commit(index_dir: str | Path) -> Commit | None:
    """The live commit, or None when no index has been built there."""
    index_dir = Path(index_dir)
    try:
        data = json.loads((index_dir / COMMIT_FILE).read_text())
    except FileNotFoundError:
        if (index_dir / "CURRENT").is_file():
            raise IndexIncompatibleError(
                f"the index at {index_dir} has an older format (whole-copy generations); this version of Verbatim "
                f"reads format {FORMAT_VERSION}; {rebuild_hint(index_dir)}"
            ) from None
        return None
    except (OSError, ValueError) as exc:
        raise _unreadable(index_dir, exc) from exc
    if not isinstance(data, dict) or data.get("format_version") != FORMAT_VERSION:
        version = data.get("format_version") if isinstance(data, dict) else None
        raise IndexIncompatibleError(
            f"the index at {index_dir} has format version {version!r}; this version of Verbatim reads version "
            f"{FORMAT_VERSION}; {rebuild_hint(index_dir)}"
        )
    try:
        return Commit.from_json(data)
    except (KeyError, TypeError) as exc:
        raise _unreadable(index_dir, exc) from exc


@contextlib.contextmanager
def index_lock(index_dir: str | Path) -> Iterator[None]:
    """Held by the one process that updates an index, from reading what is there to committing the change."""
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class IndexStore:
    """One commit of an index, opened for questions. Immutable once opened, so threads may share it."""

    def __init__(self, index_dir: Path, commit: Commit, segments: list[Segment]):
        self.index_dir = index_dir
        self.commit = commit
        self.segments = segments
        self._offsets = [s.offset for s in commit.segments]

    @classmethod
    def open(cls, index_dir: str | Path, model: str | None = None) -> IndexStore:
        """Open the live commit; with `model`, refuse an index built with another one."""
        index_dir = Path(index_dir)
        for attempt in range(3):
            commit = read_commit(index_dir)
            if commit is None:
                raise IndexNotFoundError(f"no index at {index_dir}; build one with: rag index CORPUS_DIR --index-dir {index_dir}")
            if model is not None:
                commit.check_compatible(model, commit.chunker, index_dir)
            try:
                return cls(index_dir, commit, _open_segments(index_dir, commit))
            except Exception as exc:  # OSError, ValueError, sqlite3.Error, and what FAISS and bm25s raise on a damaged file
                newer = read_commit(index_dir)
                if attempt < 2 and newer is not None and newer.segments != commit.segments:
                    continue  # a writer committed and cleaned up while this was opening: open its commit
                raise _unreadable(index_dir, exc) from exc
        raise AssertionError("unreachable")

    @property
    def n_chunks(self) -> int:
        return sum(s.n_live for s in self.segments)

    @property
    def n_documents(self) -> int:
        return sum(s.documents - len(s.deleted) for s in self.commit.segments)

    def search(self, vector: np.ndarray, k: int) -> list[Hit]:
        """The k chunks closest to a normalised query vector, best first."""
        vector = np.ascontiguousarray(vector, dtype=np.float32)
        return self._best(((seg, seg.search(vector, k)) for seg in self.segments), k)

    def lexical(self, terms: list[str], k: int) -> list[Hit]:
        """The k chunks with the best BM25 scores for stemmed query terms, best first."""
        return self._best(((seg, seg.lexical(terms, k)) for seg in self.segments), k)

    def _best(self, found, k: int) -> list[Hit]:
        hits = [Hit(live.offset + row, score) for (_, rows), live in zip(found, self.commit.segments) for row, score in rows]
        return sorted(hits, key=lambda h: -h.score)[:k]

    def chunks(self, ids: list[int]) -> list[StoredChunk]:
        """Chunks by global id, with their text, in the order asked."""
        by_segment: dict[int, list[int]] = {}
        for chunk_id in ids:
            by_segment.setdefault(self._segment_of(chunk_id), []).append(chunk_id)
        found = {}
        for i, chunk_ids in by_segment.items():
            offset = self._offsets[i]
            for row, chunk in self.segments[i].chunks([c - offset for c in chunk_ids]).items():
                found[offset + row] = replace(chunk, id=offset + row)
        return [found[chunk_id] for chunk_id in ids]

    def _segment_of(self, chunk_id: int) -> int:
        i = bisect.bisect_right(self._offsets, chunk_id) - 1
        if i < 0 or chunk_id >= self._offsets[i] + self.segments[i].n_chunks:
            raise KeyError(f"no chunk {chunk_id} in this index")
        return i

    def sentences(self, chunk: StoredChunk, before: int = 0) -> list[StoredSentence]:
        """The chunk's sentences, preceded by up to `before` sentences of its document."""
        segment = self.segments[self._segment_of(chunk.id)]
        return segment.sentences(chunk.doc_id, max(0, chunk.first_sentence - before), chunk.last_sentence)

    def document(self, doc_id: str) -> StoredDocument:
        document = next((d for d in (s.document(doc_id) for s in self.segments) if d is not None), None)
        if document is None:
            raise KeyError(f"no document {doc_id!r} in this index")
        return document

    def documents(self) -> list[DocumentInfo]:
        """Every live document (read from SQLite: linear in the corpus, for listings and updates)."""
        return sorted((d for segment in self.segments for d in segment.documents()), key=lambda d: d.id)

    def document_hashes(self, only: list[str] | None = None) -> dict[str, str]:
        """Live document id → sha256 of its file's bytes, for every document or `only` these (those indexed)."""
        return {doc_id: sha for segment in self.segments for doc_id, sha in segment.hashes(only).items()}

    def close(self) -> None:
        for segment in self.segments:
            segment.close()


class IndexWriter:
    """Writes the next commit of an index: new documents into one new segment, deletions recorded.

    Use as a context manager while holding `index_lock`. Nothing is visible to readers until
    `commit()`; an exception or a crash leaves the live commit as it was, and what the crash left
    behind is removed when the next writer starts."""

    def __init__(self, index_dir: str | Path, commit: Commit, start_empty: bool = False):
        self.index_dir = Path(index_dir)
        self.target = commit
        self.start_empty = start_empty
        self._writer: SegmentWriter | None = None
        self._added: list[LiveSegment] = []
        self._dropped: set[str] = set()

    def __enter__(self) -> IndexWriter:
        remove_leftovers(self.index_dir)
        try:
            live = read_commit(self.index_dir)
        except (IndexCorruptError, IndexIncompatibleError):
            if not self.start_empty:
                raise
            live = None
        self._previous = tuple(s.name for s in live.segments) if live else ()
        if self.start_empty:
            live = None
        base = live or self.target
        self._live = replace(self.target, generation=base.generation, next_offset=base.next_offset,
                             segments=live.segments if live else (), previous=())
        self._store = IndexStore.open(self.index_dir) if live and live.segments else None
        self._deleted = {s.name: set(s.deleted) for s in self._live.segments}
        return self

    @property
    def segments_dir(self) -> Path:
        return self.index_dir / SEGMENTS_DIR

    def remove(self, doc_id: str) -> None:
        """Delete a document from whichever live segment holds it."""
        if self._store is None:
            return
        for live, segment in zip(self._live.segments, self._store.segments):
            if doc_id not in self._deleted[live.name] and segment.hashes([doc_id]):
                self._deleted[live.name].add(doc_id)

    def document_hashes(self, only: list[str] | None = None) -> dict[str, str]:
        """What the commit being changed holds: document id → sha256, for all documents or `only` these."""
        return self._store.document_hashes(only) if self._store else {}

    @property
    def n_documents(self) -> int:
        """Documents the commit would hold."""
        kept = sum(s.documents - len(self._deleted[s.name]) for s in self._live.segments if s.name not in self._dropped)
        return kept + sum(s.documents for s in self._added) + (self._writer.n_documents if self._writer else 0)

    def add(self, document, chunked, vectors: np.ndarray) -> None:
        if self._writer is None:
            self._writer = SegmentWriter(self.segments_dir, self.target.dimension)
        self._writer.add(document, chunked, vectors)

    def add_segment(self, name: str) -> None:
        """Include a finished segment written elsewhere (by a worker of a distributed build)."""
        info = json.loads((self.segments_dir / name / "segment.json").read_text())
        self._added.append(LiveSegment(name, 0, info["chunks"], info["documents"]))

    def merge(self, names: list[str]) -> None:
        """Replace segments (live ones, or ones added by this writer) by one holding their live rows."""
        writer = SegmentWriter(self.segments_dir, self.target.dimension)
        try:
            for live, segment in zip(self._live.segments, self._store.segments if self._store else ()):
                if live.name in names:
                    writer.copy_live(segment, self._deleted[live.name])
            for added in [a for a in self._added if a.name in names]:
                segment = Segment(self.segments_dir / added.name)
                writer.copy_live(segment, ())
                segment.close()
                self._added.remove(added)
            self._added.append(LiveSegment(writer.finish(), 0, writer.n_chunks, writer.n_documents))
        except BaseException:
            writer.abort()
            raise
        self._dropped.update(names)

    def commit(self) -> Commit:
        if self._writer is not None:
            self._added.append(LiveSegment(self._writer.finish(), 0, self._writer.n_chunks, self._writer.n_documents))
            self._writer = None
        segments = [replace(s, deleted=tuple(sorted(self._deleted[s.name]))) for s in self._live.segments if s.name not in self._dropped]
        offset = self._live.next_offset
        for added in self._added:
            segments.append(replace(added, offset=offset))
            offset += added.chunks
        segments = [s for s in segments if len(s.deleted) < s.documents]  # a segment with nothing live is dropped
        commit = replace(self._live, generation=self._live.generation + 1, next_offset=offset, segments=tuple(segments),
                         previous=self._previous)
        pointer = self.index_dir / f"{COMMIT_FILE}.tmp"
        pointer.write_text(json.dumps(asdict(commit), indent=1))
        fsync(pointer)
        os.replace(pointer, self.index_dir / COMMIT_FILE)
        fsync(self.index_dir)
        return commit

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._writer is not None:
            self._writer.abort()
        if self._store is not None:
            self._store.close()
        if exc_type is None:
            remove_leftovers(self.index_dir)


def remove_leftovers(index_dir: Path) -> None:
    """Delete what no commit needs: segments neither the live nor the previous commit names, half-written
    segments, and an older format's generations (call with the lock held)."""
    try:
        commit = read_commit(index_dir)
    except (IndexCorruptError, IndexIncompatibleError):
        return  # an unreadable commit is reported to the user; nothing is deleted on a guess
    keep = set()
    if commit is not None:
        keep = {s.name for s in commit.segments} | set(commit.previous)
        for old in (*index_dir.glob("gen-*"), index_dir / "CURRENT"):
            shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink(missing_ok=True)
    for path in (index_dir / SEGMENTS_DIR).glob("*"):
        if path.name not in keep or path.name.startswith(TEMPORARY_PREFIX):
            shutil.rmtree(path, ignore_errors=True)
    (index_dir / f"{COMMIT_FILE}.tmp").unlink(missing_ok=True)


def _open_segments(index_dir: Path, commit: Commit) -> list[Segment]:
    segments: list[Segment] = []
    try:
        for live in commit.segments:
            segments.append(Segment(index_dir / SEGMENTS_DIR / live.name, live.deleted))
            if segments[-1].n_chunks != live.chunks or segments[-1].vectors.shape[1:] != (commit.dimension,):
                raise ValueError(f"segment {live.name} does not match the commit")
    except BaseException:
        for segment in segments:
            segment.close()
        raise
    return segments


def is_old_format(index_dir: str | Path) -> bool:
    """Whether the folder holds an index of format 3 or before (whole-copy generations), which is rebuilt."""
    return (Path(index_dir) / "CURRENT").is_file() and not (Path(index_dir) / COMMIT_FILE).exists()


def indexed_documents(index_dir: str | Path, only: list[str] | None = None) -> dict[str, str]:
    """Live document id → sha256 of its file's bytes, for every document or `only` these (those indexed)."""
    store = IndexStore.open(index_dir)
    try:
        return store.document_hashes(only)
    finally:
        store.close()


def merge_segments(index_dir: str | Path, everything: bool = False) -> None:
    """Merge what the merge policy says should be merged, or (`everything`) all segments into one, each merge
    its own commit (call with the lock held)."""
    commit = read_commit(index_dir)
    while commit is not None:
        names = [s.name for s in commit.segments] if everything else merge_candidates(commit)
        deleted = any(s.deleted for s in commit.segments if s.name in names)
        if not names or (len(names) == 1 and not deleted):
            return
        with IndexWriter(index_dir, commit) as writer:
            writer.merge(names)
            commit = writer.commit()
        everything = False


def merge_candidates(commit: Commit, merge_factor: int = MERGE_FACTOR, max_deleted: float = 0.25) -> list[str]:
    """Segments to merge now: the first size tier (powers of ten of live chunks) holding `merge_factor` of them,
    else one segment with more than `max_deleted` of its documents deleted, rewritten without them."""
    tiers: dict[int, list[str]] = {}
    for s in commit.segments:
        live = s.chunks * (1 - len(s.deleted) / max(1, s.documents))
        tiers.setdefault(len(str(int(max(1, live)))), []).append(s.name)
    full = next((names for _, names in sorted(tiers.items()) if len(names) >= merge_factor), [])
    return full or next(([s.name] for s in commit.segments if len(s.deleted) > max_deleted * s.documents), [])
