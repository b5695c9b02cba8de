"""Question → passages: dense (FAISS), lexical (BM25 via bm25s) or both fused by reciprocal rank."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace

import numpy as np

from .lexical import Analyzer
from .store import IndexStore, StoredChunk

RETRIEVERS = ("hybrid", "dense", "bm25")
DEFAULT_RETRIEVER = "hybrid"


@dataclass(frozen=True)
class Query:
    text: str
    vector: np.ndarray
    terms: list[str]


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk: `score` is the retriever's own (cosine, BM25 or fused rank score); once read,
    `answer` is the reader's best span in it and `probability` the chance that this span is the answer."""

    source: str
    start: int
    end: int
    text: str
    score: float
    chunk_id: int
    answer: str | None = None
    probability: float | None = None

    @classmethod
    def of(cls, chunk: StoredChunk, score: float) -> Passage:
        return cls(chunk.doc_id, chunk.start, chunk.end, chunk.text, float(score), chunk.id)


class DenseRetriever:
    """Nearest chunks by cosine similarity of normalised embeddings."""

    def __init__(self, store: IndexStore):
        self.store = store

    def run(self, query: Query, k: int) -> list[Passage]:
        return [Passage.of(chunk, score) for chunk, score in self.store.search(query.vector, k)]


class BM25Retriever:
    """Chunks ranked by BM25 over stemmed terms; the bm25s index is built on first use, in memory."""

    def __init__(self, store: IndexStore, analyzer: Analyzer):
        self.store = store
        self.analyzer = analyzer
        self._index = None
        self._lock = threading.Lock()

    def _bm25(self):
        with self._lock:
            if self._index is None:
                import bm25s

                logging.getLogger("bm25s").setLevel(logging.ERROR)  # it warns on every index build
                self._chunk_ids = list(self.store.chunks)
                index = bm25s.BM25()
                index.index(self.analyzer.run([self.store.chunks[i].text for i in self._chunk_ids]), show_progress=False)
                self._index = index
        return self._index

    def run(self, query: Query, k: int) -> list[Passage]:
        index = self._bm25()
        if not query.terms or not self._chunk_ids:
            return []
        ids, scores = index.retrieve([query.terms], k=min(k, len(self._chunk_ids)), show_progress=False, n_threads=1)
        return [Passage.of(self.store.chunks[self._chunk_ids[i]], s) for i, s in zip(ids[0], scores[0]) if s > 0]


class HybridRetriever:
    """Reciprocal rank fusion of several retrievers, each asked for `depth` × k candidates."""

    def __init__(self, retrievers: list, rrf_k: int = 60, depth: int = 4):
        self.retrievers = retrievers
        self.rrf_k = rrf_k
        self.depth = depth

    def run(self, query: Query, k: int) -> list[Passage]:
        fused: dict[int, float] = {}
        passages: dict[int, Passage] = {}
        for retriever in self.retrievers:
            for rank, passage in enumerate(retriever.run(query, k * self.depth)):
                fused[passage.chunk_id] = fused.get(passage.chunk_id, 0.0) + 1.0 / (self.rrf_k + rank + 1)
                passages.setdefault(passage.chunk_id, passage)
        best = sorted(fused, key=fused.__getitem__, reverse=True)[:k]
        return [replace(passages[i], score=fused[i]) for i in best]
