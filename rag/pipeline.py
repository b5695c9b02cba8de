"""The facade other apps use: build or load an index, then ask questions.

qa = rag.build("data/articles", index_dir="index")
answer = qa.ask("Who is the Kremlin spokesperson?")
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from .answers import Answer, AnswerBuilder
from .conversation import Context, FollowUpResolver, History
from .embedding import Embedder
from .errors import InvalidQuestionError
from .filters import Filters
from .indexing import Indexer, IndexReport
from .lexical import Analyzer
from .reader import Reader
from .retrieval import (
    DEFAULT_RETRIEVER,
    RETRIEVERS,
    BM25Retriever,
    DenseRetriever,
    HybridRetriever,
    Passage,
    Query,
)
from .shards import ShardedStore, for_index, open_store
from .store import IndexStore

MAX_QUESTION_CHARS = 1000
MAX_K = 50


def _one_blas_thread() -> None:
    """numpy's BLAS threads spin between calls and slow the next question's embedding several-fold on a small
    machine; the matrix-vector products here gain nothing from them."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


class QA:
    """Answers questions from one opened index. Safe to call from several threads at once."""

    def __init__(
        self,
        store: IndexStore | ShardedStore,
        embedder: Embedder,
        retriever: str = DEFAULT_RETRIEVER,
        report: IndexReport | None = None,
        reader: Reader | None = None,
    ):
        _one_blas_thread()
        if retriever not in RETRIEVERS:
            raise ValueError(f"unknown retriever {retriever!r}; choose one of {', '.join(RETRIEVERS)}")
        self.store = store
        self.embedder = embedder
        self.retriever = retriever
        self.report = report
        self.analyzer = Analyzer()
        dense = DenseRetriever(store)
        bm25 = BM25Retriever(store)
        self.retrievers = {"dense": dense, "bm25": bm25, "hybrid": HybridRetriever([dense, bm25])}
        self.answer_builder = AnswerBuilder(store, reader or Reader(), analyzer=self.analyzer)
        self.resolver = FollowUpResolver()
        # Question → vector; recent ones are cached (follow-ups, retries and evaluations repeat them).
        self._embed = functools.lru_cache(maxsize=4096)(lambda q: _read_only(embedder.run([q])[0]))

    def ask(
        self,
        question: str,
        k: int = 5,
        retriever: str | None = None,
        abstain: bool = True,
        history: History | list[Answer | dict] | None = None,
        filters: dict | Filters | None = None,
    ) -> Answer:
        """Answer with a verbatim, cited quote, or abstain and return the closest passages
        (`abstain=False`: quote the most probable answer however unlikely, with its confidence).
        `history`: the conversation's earlier answers, oldest first (Answer objects or their `to_dict()`);
        a follow-up is then read as resolved against them, and `answer.context` says how.
        `filters`: {"after": "2025-01-01", "before": "2025-02-01", "outlet": ["Reuters"]}, any of them (rag/filters.py)."""
        asked = check_question(question)
        turns = History.of(history)
        context = self.resolver.run(asked, turns)
        query, passages = self.retrieval(
            context.question[:MAX_QUESTION_CHARS] if context else question, k, retriever, filters
        )
        if context and context.source and self.resolver.neighbours:
            passages = self._with_neighbourhood(passages, context, k, query.filters)
        said = self.resolver.said(asked, context, turns) if context else None
        answer = self.answer_builder.run(self._as_read(query, context), passages, abstain=abstain, said=said)
        return replace(answer, question=asked, context=context) if context else answer

    def _as_read(self, query: Query, context: Context | None) -> Query:
        """The query the answer builder judges by: a follow-up's own words (resolved, without the words it carries)
        are the terms a quote's sentence should cover, where it has any ("Why?" has none), since the carried words are
        context, not what the answer must say. The reader still reads them."""
        if not context or not context.carried or not (own := self.analyzer.run([context.resolved])[0]):
            return query
        return replace(query, terms=own)

    def _with_neighbourhood(
        self, passages: list[Passage], context: Context, k: int, filters: Filters | None
    ) -> list[Passage]:
        """The passages with the chunk the earlier answer was cited from and the next one in place of the last
        retrieved, where they are not retrieved already: a follow-up's answer often stands right after. Each
        takes the retrieval score of the passage it replaces, so the reader's confidence signals stay in range."""
        found = {p.chunk_id for p in passages}
        extra = [
            c
            for c in self.store.chunks_from(context.source, context.offset, self.resolver.neighbours)
            if c.id not in found and (not filters or filters.admits(c.meta.published, c.meta.outlet))
        ]
        kept = passages[: max(0, min(len(passages), k) - len(extra))]
        replaced = [p.score for p in passages[len(kept) :]]
        scores = replaced + [min(replaced, default=0.0)] * (len(extra) - len(replaced))
        return kept + [Passage.of(c, score) for c, score in zip(extra, scores)]

    def retrieve(
        self, question: str, k: int = 5, retriever: str | None = None, filters: dict | Filters | None = None
    ) -> list[Passage]:
        """The k passages closest to the question, best first, without choosing an answer."""
        return self.retrieval(question, k, retriever, filters)[1]

    def retrieval(
        self, question: str, k: int = 5, retriever: str | None = None, filters: dict | Filters | None = None
    ) -> tuple[Query, list[Passage]]:
        """The question as retrieval reads it (text, vector, terms, filters) and its k closest passages."""
        question = check_question(question)
        if not isinstance(k, numbers.Integral) or isinstance(k, bool) or not 1 <= k <= MAX_K:
            raise InvalidQuestionError(f"k must be a whole number from 1 to {MAX_K}, not {k!r}")
        k = int(k)
        retriever = retriever or self.retriever
        if retriever not in self.retrievers:
            raise InvalidQuestionError(f"unknown retriever {retriever!r}; choose one of {', '.join(RETRIEVERS)}")
        query = Query(question, self._embed(question), self.analyzer.run([question])[0], Filters.of(filters))
        hits = self.retrievers[retriever].run(query, k)
        return query, [
            Passage.of(chunk, hit.score) for chunk, hit in zip(self.store.chunks([h.chunk_id for h in hits]), hits)
        ]

    def filter_summary(self, filters: dict | Filters | None) -> str | None:
        """What `filters` leave of the library: "Filtered to 2 of 5 articles: …"; None unfiltered."""
        found = Filters.of(filters)
        return found.describe(self.store.documents()) if found else None

    __call__ = ask

    def clear_cache(self) -> None:
        """Forget cached question vectors (so that a timing includes the embedding)."""
        self._embed.cache_clear()


def _read_only(vector: np.ndarray) -> np.ndarray:
    vector.setflags(write=False)
    return vector


def check_question(question: str) -> str:
    """The question stripped, or InvalidQuestionError when it is empty, too long or not text."""
    if not isinstance(question, str) or not question.strip():
        raise InvalidQuestionError("the question is empty: type a question about the articles")
    question = question.strip()
    try:
        question.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate: from invalid UTF-8 on a command line, or a broken client
        raise InvalidQuestionError(
            f"the question holds a character that is not valid text at position {exc.start}: "
            "type it again as plain UTF-8 text"
        ) from None
    if len(question) > MAX_QUESTION_CHARS:
        raise InvalidQuestionError(
            f"the question is {len(question):,} characters long; the limit is {MAX_QUESTION_CHARS:,}: ask something shorter"
        )
    return question


def load(
    index_dir: str | Path = "index",
    model: str | None = None,
    retriever: str = DEFAULT_RETRIEVER,
    reader: str | Path | Reader | None = None,
) -> QA:
    """Open an existing index (built with `model`, if one is named); `reader`: a reader or its model folder."""
    store = open_store(index_dir, model=model)
    return QA(store, Embedder(store.model), retriever, reader=_reader(reader))


def build(
    corpus_dir: str | Path,
    index_dir: str | Path = "index",
    model: str | None = None,
    retriever: str = DEFAULT_RETRIEVER,
    rebuild: bool = False,
    show_progress: bool = False,
    on_progress: Callable[[int, int, str], None] | None = None,
    embedder: Embedder | None = None,
    reader: str | Path | Reader | None = None,
) -> QA:
    """Build the index of a corpus folder, or bring it up to date, then open it (`embedder`, `reader`: reuse
    loaded models; `reader` may also name a reader model folder)."""
    embedder = embedder or Embedder(model)
    report = for_index(Indexer(embedder), index_dir).run(
        corpus_dir, index_dir, rebuild=rebuild, show_progress=show_progress, on_progress=on_progress
    )
    return reopen(index_dir, embedder, retriever, report, reader)


def reopen(
    index_dir: str | Path,
    embedder: Embedder,
    retriever: str = DEFAULT_RETRIEVER,
    report: IndexReport | None = None,
    reader: str | Path | Reader | None = None,
) -> QA:
    """Open an index just updated with `embedder`, reusing it (and `reader`) rather than loading them again."""
    return QA(open_store(index_dir, model=embedder.model_name), embedder, retriever, report, _reader(reader))


def _reader(reader: str | Path | Reader | None) -> Reader:
    return reader if isinstance(reader, Reader) else Reader(reader)
