"""Reciprocal rank fusion (rag/retrieval.py's HybridRetriever) over hand-made rankings: each chunk scores the sum,
over the retrievers that found it, of 1 / (rrf_k + rank), rank counted from 1."""

import numpy as np
import pytest

from rag.filters import Filters
from rag.retrieval import BM25Retriever, DenseRetriever, HybridRetriever, Query
from rag.store import Hit


class Ranked:
    """A retriever that returns a fixed ranking of chunk ids (cut at k) and records what it was asked."""

    def __init__(self, *chunk_ids: int):
        self.chunk_ids = chunk_ids
        self.asked: list[tuple[Query, int]] = []

    def run(self, query: Query, k: int) -> list[Hit]:
        self.asked.append((query, k))
        return [Hit(i, 100.0 - n) for n, i in enumerate(self.chunk_ids[:k])]


QUERY = Query("who?", np.zeros(4, dtype=np.float32), ["who"])


def rrf(*ranks: int, rrf_k: int = 60) -> float:
    return sum(1.0 / (rrf_k + r) for r in ranks)


def test_fused_scores_are_the_sum_of_reciprocal_ranks():
    dense, bm25 = Ranked(1, 2, 3), Ranked(3, 1, 4)
    hits = HybridRetriever([dense, bm25]).run(QUERY, 5)
    # 1: ranks 1 and 2; 3: ranks 3 and 1; 2: rank 2 in dense only; 4: rank 3 in BM25 only.
    assert hits == [Hit(1, rrf(1, 2)), Hit(3, rrf(3, 1)), Hit(2, rrf(2)), Hit(4, rrf(3))]
    assert [h.score for h in hits] == [1 / 61 + 1 / 62, 1 / 63 + 1 / 61, 1 / 62, 1 / 63]


def test_a_chunk_both_found_beats_one_found_first_by_only_one():
    hits = HybridRetriever([Ranked(7, 8), Ranked(9, 8)]).run(QUERY, 3)
    assert [h.chunk_id for h in hits] == [8, 7, 9]
    assert hits[0].score == 2 / 62


def test_ties_keep_the_order_first_found():
    # 5 and 6 both rank 1 once; 5 is seen first (the first retriever's), so it stays first (sorting is stable).
    hits = HybridRetriever([Ranked(5), Ranked(6)]).run(QUERY, 2)
    assert hits == [Hit(5, 1 / 61), Hit(6, 1 / 61)]
    hits = HybridRetriever([Ranked(6), Ranked(5)]).run(QUERY, 2)
    assert hits == [Hit(6, 1 / 61), Hit(5, 1 / 61)]


def test_k_cuts_the_fused_list_and_each_retriever_is_asked_depth_times_k():
    dense, bm25 = Ranked(*range(10)), Ranked(*range(9, -1, -1))
    hits = HybridRetriever([dense, bm25], depth=2).run(QUERY, 2)
    # Each retriever gives 4 (depth 2 × k 2): dense 0..3, BM25 9..6; no chunk is in both, so ranks alone order them.
    assert [(q, k) for q, k in dense.asked] == [(QUERY, 4)] and [(q, k) for q, k in bm25.asked] == [(QUERY, 4)]
    assert hits == [Hit(0, 1 / 61), Hit(9, 1 / 61)]


def test_a_chunk_past_the_depth_is_not_fused():
    # With k 1 and depth 1 each retriever gives only its first: 2 ranks second in both lists, but is never seen.
    assert HybridRetriever([Ranked(1, 2), Ranked(3, 2)], depth=1).run(QUERY, 1) == [Hit(1, 1 / 61)]
    assert HybridRetriever([Ranked(1, 2), Ranked(3, 2)], depth=2).run(QUERY, 1) == [Hit(2, 2 / 62)]


def test_rrf_k_sets_how_much_rank_matters():
    dense, bm25 = Ranked(1, 2), Ranked(2)
    assert HybridRetriever([dense, bm25], rrf_k=0).run(QUERY, 2) == [Hit(2, 1 / 2 + 1), Hit(1, 1.0)]
    assert HybridRetriever([dense, bm25], rrf_k=1).run(QUERY, 2) == [Hit(2, 1 / 3 + 1 / 2), Hit(1, 1 / 2)]


def test_fewer_hits_than_k_and_no_hits():
    assert HybridRetriever([Ranked(4), Ranked()]).run(QUERY, 5) == [Hit(4, 1 / 61)]
    assert HybridRetriever([Ranked(), Ranked()]).run(QUERY, 5) == []
    assert HybridRetriever([]).run(QUERY, 5) == []


def test_one_retriever_keeps_its_order():
    assert HybridRetriever([Ranked(3, 1, 2)]).run(QUERY, 3) == [Hit(3, 1 / 61), Hit(1, 1 / 62), Hit(2, 1 / 63)]


def test_the_query_and_its_filters_reach_every_retriever():
    filtered = Query("who?", np.zeros(4, dtype=np.float32), ["who"], Filters(after="2025-01-01", outlet=("Reuters",)))
    dense, bm25 = Ranked(1), Ranked(1)
    HybridRetriever([dense, bm25]).run(filtered, 3)
    assert dense.asked == [(filtered, 12)] and bm25.asked == [(filtered, 12)]
    assert dense.asked[0][0].filters == Filters(after="2025-01-01", before=None, outlet=("Reuters",))


class FakeStore:
    """Records what the dense and BM25 retrievers ask of the store."""

    def __init__(self):
        self.asked = []

    def search(self, vector, k, filters=None):
        self.asked.append(("search", vector, k, filters))
        return [Hit(1, 0.9)]

    def lexical(self, terms, k, filters=None):
        self.asked.append(("lexical", terms, k, filters))
        return [Hit(2, 7.5)]


def test_dense_and_bm25_pass_the_vector_terms_k_and_filters_to_the_store():
    store, filters = FakeStore(), Filters(before="2025-06-01")
    query = Query("who won?", np.ones(4, dtype=np.float32), ["won"], filters)
    assert DenseRetriever(store).run(query, 3) == [Hit(1, 0.9)]
    assert BM25Retriever(store).run(query, 4) == [Hit(2, 7.5)]
    (kind, vector, k, passed), lexical = store.asked
    assert (kind, k, passed) == ("search", 3, filters) and vector is query.vector
    assert lexical == ("lexical", ["won"], 4, filters)


def test_hybrid_over_the_real_dense_and_bm25_retrievers_fuses_the_stores_hits():
    store = FakeStore()
    hits = HybridRetriever([DenseRetriever(store), BM25Retriever(store)]).run(QUERY, 2)
    assert hits == [Hit(1, 1 / 61), Hit(2, 1 / 61)]
    assert [(kind, k) for kind, _, k, _ in store.asked] == [("search", 8), ("lexical", 8)]


@pytest.mark.parametrize("scores", [(0.99, 0.01), (0.01, 0.99)])
def test_the_retrievers_own_scores_do_not_count_only_their_ranks(scores):
    class Scored:
        def run(self, query, k):
            return [Hit(1, scores[0]), Hit(2, scores[1])]

    assert HybridRetriever([Scored()]).run(QUERY, 2) == [Hit(1, 1 / 61), Hit(2, 1 / 62)]
