"""An index split into shards by document, for archives bigger than one machine.

Layout of a sharded index folder::

    SHARDS        {"shards": N}: written once, when the index is first built
    shard-0/ …    one ordinary index each (rag/store.py), holding the articles whose id hashes to it

An article belongs to shard `shard_of(doc_id, N)`, so an added or changed article goes to the shard that owns it,
and each shard is updated under its own lock, as one index is. `ShardedStore` answers as one `IndexStore` would:
each shard returns its own best k hits with their scores and the best k of all are kept, exactly as one index
merges its segments; a chunk's id across shards is `local id × N + shard`. A shard is an `IndexStore` in this
process or a deployment on Ray Serve (rag/serving.py); `ShardedStore` only needs the methods it calls.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import hashlib
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import replace
from pathlib import Path

import numpy as np

from .errors import CorpusError, IndexIncompatibleError, RagError, ServiceUnavailableError
from .files import write_atomically
from .filters import Filters
from .indexing import Indexer, IndexReport, ProgressCallback
from .segments import DocumentInfo, Hit, StoredChunk, StoredDocument, StoredSentence
from .store import COMMIT_FILE, IndexStore

SHARDS_FILE = "SHARDS"


class ShardUnavailableError(ServiceUnavailableError):
    """A shard of the index cannot answer (down, restarting or unreachable)."""


_PARTIAL: ContextVar[list[int] | None] = ContextVar("verbatim_partial", default=None)


@contextlib.contextmanager
def partial_results() -> Iterator[list[int]]:
    """Within it, searches leave out a shard that is down (its number joins the list yielded) instead of failing."""
    missing: list[int] = []
    token = _PARTIAL.set(missing)
    try:
        yield missing
    finally:
        _PARTIAL.reset(token)


def shard_of(doc_id: str, shards: int) -> int:
    """The shard that owns an article: stable across processes and machines."""
    return int.from_bytes(hashlib.sha256(doc_id.encode("utf-8")).digest()[:8], "big") % shards


def shard_dirs(index_dir: str | Path) -> list[Path] | None:
    """The shard folders of a sharded index, or None when the folder holds an unsharded one (or none)."""
    path = Path(index_dir) / SHARDS_FILE
    if not path.is_file():
        return None
    try:
        shards = int(json.loads(path.read_text())["shards"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexIncompatibleError(f"{path} is unreadable ({exc}); rebuild the index with --shards") from exc
    return [Path(index_dir) / f"shard-{i}" for i in range(shards)]


def _start_shards(index_dir: Path, shards: int) -> list[Path]:
    """The shard folders, recording their number on first build; refuses to change it or to shard an unsharded index."""
    existing = shard_dirs(index_dir)
    if existing is not None:
        if len(existing) != shards:
            raise IndexIncompatibleError(
                f"the index at {index_dir} has {len(existing)} shards, not {shards}; build a new one in another folder"
            )
        return existing
    if (index_dir / COMMIT_FILE).exists():
        raise IndexIncompatibleError(
            f"the index at {index_dir} is not sharded; build the sharded one in another folder"
        )
    index_dir.mkdir(parents=True, exist_ok=True)
    write_atomically(index_dir / SHARDS_FILE, json.dumps({"shards": shards}).encode())
    return shard_dirs(index_dir)


class ShardedIndexer:
    """Builds or updates a sharded index: each shard indexes the corpus's articles it owns (with `indexer`, local
    or on Ray Data), one commit per shard."""

    def __init__(self, indexer: Indexer, shards: int):
        if shards < 1:
            raise RagError(f"--shards must be at least 1, not {shards}")
        self.indexer = indexer
        self.shards = shards

    def run(
        self,
        corpus_dir: str | Path,
        index_dir: str | Path,
        rebuild: bool = False,
        optimize: bool = False,
        show_progress: bool = False,
        on_progress: ProgressCallback | None = None,
    ) -> IndexReport:
        """Index what changed in the folder, each article in the shard that owns it (`on_progress`: not reported)."""
        from .documents import DocumentLoader

        dirs = _start_shards(Path(index_dir), self.shards)
        files = DocumentLoader().files(corpus_dir)
        owned = [[f for f in files if shard_of(f[0], self.shards) == i] for i in range(self.shards)]
        if any(not mine for mine in owned):
            raise CorpusError(f"{self.shards} shards need articles for each; {corpus_dir} has {len(files)}")
        return IndexReport.combined(
            [
                self.indexer.index_all(mine, directory, rebuild, optimize, show_progress)
                for directory, mine in zip(dirs, owned)
            ]
        )

    def update_files(
        self,
        index_dir: str | Path,
        files: list[tuple[str, Path]] = (),
        removed: list[str] = (),
        on_progress: ProgressCallback | None = None,
    ) -> IndexReport:
        """Index these files and remove these articles, each in the shard that owns it."""
        dirs = shard_dirs(index_dir)
        reports = []
        for i, directory in enumerate(dirs):
            mine = [f for f in files if shard_of(f[0], len(dirs)) == i]
            gone = [d for d in removed if shard_of(d, len(dirs)) == i]
            if mine or gone:
                reports.append(self.indexer.update_files(directory, mine, gone, on_progress))
        return IndexReport.combined(reports)


class ShardedStore:
    """Several shards answering as one index (see the module's docstring)."""

    def __init__(self, shards: list):
        self.shards = shards

    @classmethod
    def open(cls, index_dir: str | Path, model: str | None = None) -> ShardedStore:
        opened = []
        try:
            for directory in shard_dirs(index_dir):
                opened.append(IndexStore.open(directory, model=model))
        except BaseException:
            for store in opened:
                store.close()
            raise
        return cls(opened)

    @property
    def model(self) -> str:
        return self.shards[0].model

    @property
    def generations(self) -> list[int]:
        """Each shard's commit generation."""
        return [g for shard in self.shards for g in shard.generations]

    @property
    def n_chunks(self) -> int:
        return sum(shard.n_chunks for shard in self.shards)

    @property
    def n_documents(self) -> int:
        return sum(shard.n_documents for shard in self.shards)

    def search(self, vector: np.ndarray, k: int, filters: Filters | None = None) -> list[Hit]:
        return self._best(self._fan_out("search", vector, k, filters), k)

    def lexical(self, terms: list[str], k: int, filters: Filters | None = None) -> list[Hit]:
        return self._best(self._fan_out("lexical", terms, k, filters), k)

    def _fan_out(self, method: str, *args) -> list[list]:
        """Every shard's answer (hits, or documents), asked of all shards at once; none from a shard that is down
        when partial results were asked for (`partial_results`: its number is noted)."""
        if len(self.shards) == 1:
            return [getattr(self.shards[0], method)(*args)]
        futures = [
            _pool().submit(contextvars.copy_context().run, getattr(shard, method), *args) for shard in self.shards
        ]
        found, missing = [], _PARTIAL.get()
        for i, future in enumerate(futures):
            try:
                found.append(future.result())
            except ShardUnavailableError:
                if missing is None:
                    raise
                if i not in missing:
                    missing.append(i)
                found.append([])
        return found

    def _best(self, found: list[list[Hit]], k: int) -> list[Hit]:
        """The k best of every shard's hits, by score, as one index ranks its segments' (ties: the earlier shard)."""
        hits = [Hit(self._global(hit.chunk_id, i), hit.score) for i, hits in enumerate(found) for hit in hits]
        return sorted(hits, key=lambda h: -h.score)[:k]

    def chunks(self, ids: list[int]) -> list[StoredChunk]:
        by_shard: dict[int, list[int]] = {}
        for chunk_id in ids:
            by_shard.setdefault(chunk_id % len(self.shards), []).append(chunk_id // len(self.shards))
        found = {}
        for i, local in by_shard.items():
            for chunk in self.shards[i].chunks(local):
                found[self._global(chunk.id, i)] = replace(chunk, id=self._global(chunk.id, i))
        return [found[chunk_id] for chunk_id in ids]

    def chunks_from(self, doc_id: str, offset: int, n: int = 2) -> list[StoredChunk]:
        i = self._owner(doc_id)
        return [replace(c, id=self._global(c.id, i)) for c in self.shards[i].chunks_from(doc_id, offset, n)]

    def sentences(self, chunk: StoredChunk, before: int = 0) -> list[StoredSentence]:
        local = replace(chunk, id=chunk.id // len(self.shards))
        return self.shards[chunk.id % len(self.shards)].sentences(local, before)

    def document(self, doc_id: str) -> StoredDocument:
        return self.shards[self._owner(doc_id)].document(doc_id)

    def documents(self) -> list[DocumentInfo]:
        return sorted((d for found in self._fan_out("documents") for d in found), key=lambda d: d.id)

    def document_hashes(self, only: list[str] | None = None) -> dict[str, str]:
        return {doc_id: sha for shard in self.shards for doc_id, sha in shard.document_hashes(only).items()}

    def _owner(self, doc_id: str) -> int:
        return shard_of(doc_id, len(self.shards))

    def _global(self, local_id: int, shard: int) -> int:
        return local_id * len(self.shards) + shard

    def close(self) -> None:
        for shard in self.shards:
            shard.close()


@functools.cache
def _pool() -> ThreadPoolExecutor:
    """Threads that ask shards in parallel (searches release the GIL; remote shards wait on the network); each task
    runs in its caller's context (a request's pinned generations: rag/serving.py)."""
    return ThreadPoolExecutor(max_workers=32, thread_name_prefix="verbatim-shards")


def for_index(indexer: Indexer, index_dir: str | Path) -> Indexer | ShardedIndexer:
    """What updates the index in the folder: the indexer itself, or over each shard when it is sharded."""
    dirs = shard_dirs(index_dir)
    return ShardedIndexer(indexer, len(dirs)) if dirs else indexer


def indexed_documents(index_dir: str | Path, only: list[str] | None = None) -> dict[str, str]:
    """Live document id → sha256 of its file's bytes, for every document or `only` these, sharded or not."""
    store = open_store(index_dir)
    try:
        return store.document_hashes(only)
    finally:
        store.close()


def open_store(index_dir: str | Path, model: str | None = None) -> IndexStore | ShardedStore:
    """The index in the folder, sharded or not."""
    if shard_dirs(index_dir) is not None:
        return ShardedStore.open(index_dir, model=model)
    return IndexStore.open(index_dir, model=model)
