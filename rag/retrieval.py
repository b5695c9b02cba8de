"""Question → hits → passages: dense (exact or IVF), lexical (BM25 via bm25s) or both fused by reciprocal rank.

Retrievers return chunk ids and scores only; texts are fetched for the k passages kept."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .filters import Filters
from .metadata import Metadata
from .store import Hit, IndexStore, StoredChunk

RETRIEVERS = ("hybrid", "dense", "bm25")
DEFAULT_RETRIEVER = "hybrid"


@dataclass(frozen=True)
class Query:
    text: str
    vector: np.ndarray
    terms: list[str]
    filters: Filters | None = None  # which articles may answer


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
    meta: Metadata = Metadata()  # its document's

    @classmethod
    def of(cls, chunk: StoredChunk, score: float) -> Passage:
        return cls(chunk.doc_id, chunk.start, chunk.end, chunk.text, float(score), chunk.id, meta=chunk.meta)


class DenseRetriever:
    """Nearest chunks by cosine similarity of normalised embeddings."""

    def __init__(self, store: IndexStore):
        self.store = store

    def run(self, query: Query, k: int) -> list[Hit]:
        return self.store.search(query.vector, k, query.filters)


class BM25Retriever:
    """Chunks ranked by BM25 over stemmed terms (bm25s indexes saved with each segment)."""

    def __init__(self, store: IndexStore):
        self.store = store

    def run(self, query: Query, k: int) -> list[Hit]:
        return self.store.lexical(query.terms, k, query.filters)


class HybridRetriever:
    """Reciprocal rank fusion of several retrievers, each asked for `depth` × k candidates."""

    def __init__(self, retrievers: list, rrf_k: int = 60, depth: int = 4):
        self.retrievers = retrievers
        self.rrf_k = rrf_k
        self.depth = depth

    def run(self, query: Query, k: int) -> list[Hit]:
        fused: dict[int, float] = {}
        for retriever in self.retrievers:
            for rank, hit in enumerate(retriever.run(query, k * self.depth)):
                fused[hit.chunk_id] = fused.get(hit.chunk_id, 0.0) + 1.0 / (self.rrf_k + rank + 1)
        best = sorted(fused, key=fused.__getitem__, reverse=True)[:k]
        return [Hit(i, fused[i]) for i in best]
