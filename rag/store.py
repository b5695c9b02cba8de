"""The index on disk: immutable segments plus one commit file that names the live ones.

Layout of an index folder::

    COMMIT            the live commit (JSON): format version, model, chunker settings, and each live segment
                      with its chunk-id offset, the documents deleted from it and the size and sha256 of each
                      of its files; its own sha256 last; replaced atomically
    segments/<name>/  one immutable segment (rag/segments.py)
    .lock             held by the one writer

An update writes only what changed: new documents go into one new segment, a deleted or changed
document is recorded as deleted from the segment holding it, and `COMMIT` is replaced last, so a
crash at any point leaves the last commit whole. Segments that no commit names any more (merged
away, or left half-written by a crash) are removed by the next writer; the previous commit's are
kept one commit longer, for readers in other processes that are opening it at that moment.

Opening an index checks every file's size and the checksums of the small ones; merges, `rag index`
and `rag check` (rag/check.py) check them all. A writer that may repair (a whole-folder update, which
has the corpus) drops a damaged segment from the commit, so that its documents are indexed again.

Opening an index maps its vectors and indexes into memory and reads no text: texts come from
SQLite only for the passages a question retrieves, so opening, memory and question time do not
grow with the corpus (docs/performance.md).
"""

from __future__ import annotations

import bisect
import contextlib
import fcntl
import functools
import hashlib
import json
import logging
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from .errors import IndexCorruptError, IndexIncompatibleError, IndexNotFoundError
from .filters import Filters
from .segments import (
    TEMPORARY_PREFIX,
    DamagedSegmentError,
    DocumentInfo,
    Hit,
    Segment,
    SegmentWriter,
    StoredChunk,
    StoredDocument,
    StoredSentence,
    fsync,
    verify_files,
)

log = logging.getLogger(__name__)

FORMAT_VERSION = 7  # 7: datelines and bylines chunked as article text; 6: outlet, date, author, URL and PDF pages of each document, furniture never chunked; 5: checksums of every file and document text; 4: segments and a commit file; 3 and before: generations
COMMIT_FILE = "COMMIT"
SEGMENTS_DIR = "segments"
MERGE_FACTOR = 10  # this many segments of one size tier (a power of ten of chunks) merge into one

__all__ = [
    "Commit",
    "DocumentInfo",
    "Hit",
    "IndexStore",
    "IndexWriter",
    "LiveSegment",
    "StoredChunk",
    "StoredDocument",
    "StoredSentence",
    "index_lock",
    "read_commit",
]


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
    files: dict[str, list] = field(default_factory=dict, compare=False)  # [size, sha256] by path in the segment

    @classmethod
    def written(cls, segments_dir: Path, name: str) -> LiveSegment:
        """A finished segment as its segment.json describes it (offset set when committed)."""
        info = json.loads((segments_dir / name / "segment.json").read_text())
        return cls(name, 0, info["chunks"], info["documents"], files=info["files"])


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
        """The commit whose JSON, checksum included, was read (KeyError, TypeError, ValueError when it is not one)."""
        data = dict(data)
        if data.pop("sha256") != _json_sha256(data):
            raise ValueError("COMMIT does not match its recorded sha256")
        return cls(
            **{
                **data,
                "segments": tuple(LiveSegment(**{**s, "deleted": tuple(s["deleted"])}) for s in data["segments"]),
                "previous": tuple(data["previous"]),
            }
        )

    def to_json(self) -> str:
        data = asdict(self)
        return json.dumps({**data, "sha256": _json_sha256(data)}, indent=1)

    def check_compatible(self, model: str, chunker: dict, index_dir: str | Path) -> None:
        """Raise unless chunks and vectors made with these settings could join this index."""
        for what, mine, theirs in (("model", self.model, model), ("chunker settings", self.chunker, chunker)):
            if mine != theirs:
                raise IndexIncompatibleError(
                    f"the index at {index_dir} was built with {what} {mine!r}, not {theirs!r}; {rebuild_hint(index_dir)}"
                )


def _json_sha256(data: dict) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _unreadable(index_dir: str | Path, exc: Exception) -> IndexCorruptError:
    return IndexCorruptError(
        f"the index at {index_dir} is unreadable ({exc}); rebuild it from the corpus with: "
        f"rag index CORPUS_DIR --index-dir {index_dir}"
    )


def read_commit(index_dir: str | Path) -> Commit | None:
    """The live commit, or None when no index has been built there."""
    index_dir = Path(index_dir)
    if index_dir.exists() and not index_dir.is_dir():
        raise IndexNotFoundError(f"{index_dir} is a file, not an index folder; choose another --index-dir")
    try:
        data = json.loads((index_dir / COMMIT_FILE).read_bytes())
    except FileNotFoundError:
        if (index_dir / "CURRENT").exists():
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
    except (KeyError, TypeError, ValueError) as exc:
        raise _unreadable(index_dir, exc) from exc


@contextlib.contextmanager
def index_lock(index_dir: str | Path) -> Iterator[None]:
    """Held by the one process that updates an index, from reading what is there to committing the change."""
    index_dir = Path(index_dir)
    if index_dir.exists() and not index_dir.is_dir():
        raise IndexNotFoundError(f"{index_dir} is a file, not an index folder; choose another --index-dir")
    index_dir.mkdir(parents=True, exist_ok=True)
    if (index_dir / ".lock").is_dir():
        _remove(index_dir / ".lock")  # only ever a file; as anything else it would stop every update
    with open(index_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _reads_index(method: Callable) -> Callable:
    """Report a failure to read the opened files (damage past the checks made at open) as IndexCorruptError."""

    @functools.wraps(method)
    def reading(self: IndexStore, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except (KeyError, IndexCorruptError):
            raise
        except (
            Exception
        ) as exc:  # sqlite3.Error, DamagedSegmentError, and what numpy, FAISS and bm25s raise on damaged data
            raise _damaged(self.index_dir, exc) from exc

    return reading


def _damaged(index_dir: str | Path, exc: Exception) -> IndexCorruptError:
    return IndexCorruptError(
        f"the index at {index_dir} is damaged ({exc}); check it with: rag check --index-dir {index_dir}; "
        f"repair it with: rag index CORPUS_DIR --index-dir {index_dir} (re-indexes what is damaged)"
    )


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
                raise IndexNotFoundError(
                    f"no index at {index_dir}; build one with: rag index CORPUS_DIR --index-dir {index_dir}"
                )
            if model is not None:
                commit.check_compatible(model, commit.chunker, index_dir)
            try:
                return cls(index_dir, commit, open_segments(index_dir, commit))
            except (
                Exception
            ) as exc:  # OSError, ValueError, sqlite3.Error, and what FAISS and bm25s raise on a damaged file
                newer = read_commit(index_dir)
                if attempt < 2 and newer is not None and newer.segments != commit.segments:
                    continue  # a writer committed and cleaned up while this was opening: open its commit
                raise _damaged(index_dir, exc) from exc
        raise AssertionError("unreachable")

    @property
    def model(self) -> str:
        return self.commit.model

    @property
    def generations(self) -> list[int]:
        """The commit's generation, as a list (a sharded store has one a shard)."""
        return [self.commit.generation]

    @property
    def n_chunks(self) -> int:
        return sum(s.n_live for s in self.segments)

    @property
    def n_documents(self) -> int:
        return sum(s.documents - len(s.deleted) for s in self.commit.segments)

    @_reads_index
    def search(self, vector: np.ndarray, k: int, filters: Filters | None = None) -> list[Hit]:
        """The k chunks closest to a normalised query vector, best first, of articles that pass the filters."""
        vector = np.ascontiguousarray(vector, dtype=np.float32)
        filters = Filters.of(filters)
        return self._best(((seg, seg.search(vector, k, seg.admitted(filters))) for seg in self.segments), k)

    @_reads_index
    def lexical(self, terms: list[str], k: int, filters: Filters | None = None) -> list[Hit]:
        """The k chunks with the best BM25 scores for stemmed query terms, best first, of articles that pass the filters."""
        filters = Filters.of(filters)
        return self._best(((seg, seg.lexical(terms, k, seg.admitted(filters))) for seg in self.segments), k)

    def _best(self, found, k: int) -> list[Hit]:
        hits = [
            Hit(live.offset + row, score) for (_, rows), live in zip(found, self.commit.segments) for row, score in rows
        ]
        return sorted(hits, key=lambda h: -h.score)[:k]

    @_reads_index
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
        return [found[chunk_id] for chunk_id in ids]  # Segment.chunks raised if one was missing

    @_reads_index
    def chunks_from(self, doc_id: str, offset: int, n: int = 2) -> list[StoredChunk]:
        """The chunk of a document holding a character offset and the ones after it, `n` in all, in document order."""
        for i, segment in enumerate(self.segments):
            if rows := segment.rows_from(doc_id, offset, n):
                return self.chunks([self._offsets[i] + row for row in rows])
        return []

    def _segment_of(self, chunk_id: int) -> int:
        i = bisect.bisect_right(self._offsets, chunk_id) - 1
        if i < 0 or chunk_id >= self._offsets[i] + self.segments[i].n_chunks:
            raise ValueError(f"no chunk {chunk_id} in this index")  # a search returned an id that no segment holds
        return i

    @_reads_index
    def sentences(self, chunk: StoredChunk, before: int = 0) -> list[StoredSentence]:
        """The chunk's sentences, preceded by up to `before` sentences of its document."""
        segment = self.segments[self._segment_of(chunk.id)]
        return segment.sentences(chunk.doc_id, max(0, chunk.first_sentence - before), chunk.last_sentence)

    @_reads_index
    def document(self, doc_id: str) -> StoredDocument:
        document = next((d for d in (s.document(doc_id) for s in self.segments) if d is not None), None)
        if document is None:
            raise KeyError(f"no document {doc_id!r} in this index")
        return document

    @_reads_index
    def documents(self) -> list[DocumentInfo]:
        """Every live document (read from SQLite: linear in the corpus, for listings and updates)."""
        return sorted((d for segment in self.segments for d in segment.documents()), key=lambda d: d.id)

    @_reads_index
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
    behind is removed when the next writer starts. With `repair`, every live segment's files are
    checked in full and a damaged one is dropped from the next commit (named in `damaged`), so that
    its documents are missing and get indexed again; without, a damaged segment raises IndexCorruptError."""

    def __init__(self, index_dir: str | Path, commit: Commit, start_empty: bool = False, repair: bool = False):
        self.index_dir = Path(index_dir)
        self.target = commit
        self.start_empty = start_empty
        self.repair = repair
        self.damaged: list[str] = []
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
            for path in (self.index_dir / COMMIT_FILE, self.index_dir / "CURRENT"):  # starting afresh: what cannot be
                _remove(path)  # read goes, so nothing stops the commit
            live = None
        if not (self.index_dir / SEGMENTS_DIR).is_dir():
            _remove(self.index_dir / SEGMENTS_DIR)
        self._previous = tuple(s.name for s in live.segments) if live else ()
        if self.start_empty:
            live = None
        base = live or self.target
        self._live = replace(
            self.target,
            generation=base.generation,
            next_offset=base.next_offset,
            segments=live.segments if live else (),
            previous=(),
        )
        self._store = self._open_live() if self._live.segments else None
        self._deleted = {s.name: set(s.deleted) for s in self._live.segments}
        return self

    def _open_live(self) -> IndexStore | None:
        """The live segments opened; with `repair`, fully checked, and the damaged ones left out of the next commit."""
        segments = []
        try:
            for live in self._live.segments:
                try:
                    segments.append(open_segment(self.index_dir, live, self._live.dimension, full_check=self.repair))
                except DamagedSegmentError as exc:
                    if not self.repair:
                        raise _damaged(self.index_dir, exc) from exc
                    self.damaged.append(live.name)
                    log.warning("%s; its documents will be indexed again", exc)
                    self._live = replace(
                        self._live, segments=tuple(s for s in self._live.segments if s.name != live.name)
                    )
        except BaseException:
            for segment in segments:
                segment.close()
            raise
        return IndexStore(self.index_dir, self._live, segments) if segments else None

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

    def relabel(self, doc_id: str, sha256: str, meta) -> bool:
        """Give a live document new details and fingerprint: its rows and vectors are copied into the new segment
        (and the old ones deleted by `remove`); False when no live segment holds it."""
        if self._store is None:
            return False
        for live, segment in zip(self._live.segments, self._store.segments):
            if doc_id not in self._deleted[live.name] and segment.hashes([doc_id]):
                if self._writer is None:
                    self._writer = SegmentWriter(self.segments_dir, self.target.dimension)
                self._writer.relabel(segment, doc_id, sha256, meta)
                return True
        return False

    def add_segment(self, name: str) -> None:
        """Include a finished segment written elsewhere (by a worker of a distributed build)."""
        self._added.append(LiveSegment.written(self.segments_dir, name))

    def merge(self, names: list[str]) -> None:
        """Replace segments (live ones, or ones added by this writer) by one holding their live rows; every file
        merged is checked against its checksum first, so damage is never copied into a new segment."""
        writer = SegmentWriter(self.segments_dir, self.target.dimension)
        try:
            for live, segment in zip(self._live.segments, self._store.segments if self._store else ()):
                if live.name in names:
                    self._check_whole(live)
                    writer.copy_live(segment, self._deleted[live.name])
            for added in [a for a in self._added if a.name in names]:
                segment = open_segment(self.index_dir, added, self.target.dimension, full_check=True)
                writer.copy_live(segment, ())
                segment.close()
                self._added.remove(added)
            writer.finish()
            self._added.append(LiveSegment.written(self.segments_dir, writer.name))
        except DamagedSegmentError as exc:
            writer.abort()
            raise _damaged(self.index_dir, exc) from exc
        except BaseException:
            writer.abort()
            raise
        self._dropped.update(names)

    def _check_whole(self, live: LiveSegment) -> None:
        if not self.repair:  # a repairing writer checked every file when it opened the segments
            problems = verify_files(self.segments_dir / live.name, live.files, full=True)
            if problems:
                raise DamagedSegmentError(live.name, problems)

    def commit(self) -> Commit:
        if self._writer is not None:
            self._added.append(LiveSegment.written(self.segments_dir, self._writer.finish()))
            self._writer = None
        segments = [
            replace(s, deleted=tuple(sorted(self._deleted[s.name])))
            for s in self._live.segments
            if s.name not in self._dropped
        ]
        offset = self._live.next_offset
        for added in self._added:
            segments.append(replace(added, offset=offset))
            offset += added.chunks
        segments = [s for s in segments if len(s.deleted) < s.documents]  # a segment with nothing live is dropped
        commit = replace(
            self._live,
            generation=self._live.generation + 1,
            next_offset=offset,
            segments=tuple(segments),
            previous=self._previous,
        )
        pointer = self.index_dir / f"{COMMIT_FILE}.tmp"
        pointer.write_text(commit.to_json())
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
    for path in leftovers(index_dir, commit):
        _remove(path)


def leftovers(index_dir: Path, commit: Commit | None) -> list[Path]:
    """What no commit needs, given the live one: segments neither it nor the previous commit names, half-written
    segments and commit, and (once there is a commit in this format) an older format's generations."""
    keep = {s.name for s in commit.segments} | set(commit.previous) if commit else set()
    found = (
        [
            path
            for path in (index_dir / SEGMENTS_DIR).iterdir()
            if path.name not in keep or path.name.startswith(TEMPORARY_PREFIX)
        ]
        if (index_dir / SEGMENTS_DIR).is_dir()
        else []
    )
    if commit is not None:
        found += [*sorted(index_dir.glob("gen-*")), index_dir / "CURRENT", index_dir / "CURRENT.tmp"]
    found.append(index_dir / f"{COMMIT_FILE}.tmp")
    return [path for path in found if path.exists() or path.is_symlink()]


def _remove(path: Path) -> None:
    """Delete a file, link or folder of the index, whichever it is, if it is there."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def open_segment(index_dir: Path, live: LiveSegment, dimension: int, full_check: bool = False) -> Segment:
    """A live segment opened after checking its files against the commit's checksums (the small ones; with
    `full_check`, all of them and every row inside: `Segment.check`); DamagedSegmentError when they are not what
    was written."""
    directory = index_dir / SEGMENTS_DIR / live.name
    problems = verify_files(directory, live.files, full=full_check)
    if problems:
        raise DamagedSegmentError(live.name, problems)
    try:
        segment = Segment(directory, live.deleted)
    except Exception as exc:
        raise DamagedSegmentError(live.name, [str(exc)]) from exc
    try:
        if segment.n_chunks != live.chunks or segment.vectors.shape[1:] != (dimension,):
            problems = [
                f"{segment.n_chunks} vectors of shape {segment.vectors.shape[1:]}, the commit says {live.chunks} of ({dimension},)"
            ]
        elif full_check:
            problems = segment.check()
    except Exception as exc:  # what SQLite, numpy or the indexes raise on rows they cannot read
        problems = [f"unreadable ({exc})"]
    if problems:
        segment.close()
        raise DamagedSegmentError(live.name, problems)
    return segment


def open_segments(index_dir: Path, commit: Commit, full_check: bool = False) -> list[Segment]:
    segments: list[Segment] = []
    try:
        for live in commit.segments:
            segments.append(open_segment(index_dir, live, commit.dimension, full_check))
    except BaseException:
        for segment in segments:
            segment.close()
        raise
    return segments


def is_old_format(index_dir: str | Path) -> bool:
    """Whether the folder holds an index of an older format (whole-copy generations, or segments without checksums),
    which an update that has the corpus rebuilds."""
    index_dir = Path(index_dir)
    if not (index_dir / COMMIT_FILE).is_file():
        return (index_dir / "CURRENT").exists()
    try:
        version = json.loads((index_dir / COMMIT_FILE).read_bytes()).get("format_version")
    except (OSError, ValueError, AttributeError):
        return False
    return isinstance(version, int) and version < FORMAT_VERSION


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
