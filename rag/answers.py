"""Passages → answer: pick the sentence that best answers the question, quote it verbatim and cite it.

Each candidate sentence of the retrieved passages is scored by its embedding's similarity to the
question, the IDF-weighted share of the question's terms it contains, and the similarity of the
passage around it. The best one is quoted (with its predecessor when it opens with a word that
points back, like "He" or "This"); every other article that states the same sentence is cited too.
When the best score is too low the builder abstains and returns the passages alone.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field

import numpy as np

from .lexical import TermStatistics
from .retrieval import Passage, Query
from .store import IndexStore, StoredSentence

NOT_ANSWERED = "The articles do not answer this question."
_POINTS_BACK = re.compile(
    r"^[\W_]*(he|she|it|they|this|that|these|those|his|her|its|their|but|however|also|yet|still|then|"
    r"there|such|both|meanwhile|instead|moreover|furthermore)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Span:
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Citation:
    """Where a quote stands: `source` is the file relative to the corpus root, `line` is 1-based."""

    source: str
    start: int
    end: int
    line: int
    quote: str


@dataclass
class Answer:
    question: str
    text: str
    abstained: bool
    confidence: float
    citations: list[Citation] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    span: Span | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ScoringWeights:
    similarity: float = 0.5
    terms: float = 0.35
    context: float = 0.15


class AnswerBuilder:
    """Chooses, bounds and cites the extractive answer among the retrieved passages' sentences."""

    def __init__(self, store: IndexStore, terms: TermStatistics, weights: ScoringWeights = ScoringWeights(),
                 threshold: float = 0.45, slope: float = 12.0, max_words: int = 60, duplicate_similarity: float = 0.9):
        self.store = store
        self.terms = terms
        self.weights = weights
        self.threshold = threshold
        self.slope = slope
        self.max_words = max_words
        self.duplicate_similarity = duplicate_similarity

    def run(self, query: Query, passages: list[Passage]) -> Answer:
        rows, context = self._candidates(query, passages)
        if not rows:
            return Answer(query.text, "", True, 0.0, passages=passages)
        scores = self.score(query, rows, context)
        best = int(np.argmax(scores))
        confidence = 1.0 / (1.0 + math.exp(-self.slope * (float(scores[best]) - self.threshold)))
        if confidence < 0.5:
            return Answer(query.text, "", True, confidence, passages=passages)
        sentence = self.store.sentences[rows[best]]
        first = self._with_predecessor(sentence)
        start, end = self._bounded(first, sentence, query)
        document = self.store.documents[sentence.doc_id]
        citations = [Citation(sentence.doc_id, start, end, first.line, document.text[start:end])]
        citations += self._corroborating(first.row, sentence.row)
        return Answer(query.text, citations[0].quote, False, confidence, citations, passages)

    def _candidates(self, query: Query, passages: list[Passage]) -> tuple[list[int], dict[int, float]]:
        """Sentence rows of the passages, in passage order, each with its best passage similarity."""
        context: dict[int, float] = {}
        for passage in passages:
            chunk = self.store.chunks[passage.chunk_id]
            similarity = float(self.store.chunk_index.reconstruct(chunk.id) @ query.vector)
            for row in chunk.sentence_rows:
                context[row] = max(context.get(row, -1.0), similarity)
        return list(context), context

    def score(self, query: Query, rows: list[int], context: dict[int, float]) -> np.ndarray:
        similarity = self.store.sentence_vectors[rows] @ query.vector
        coverage = np.array([self.terms.coverage(query.terms, row) for row in rows])
        around = np.array([context[row] for row in rows])
        w = self.weights
        return w.similarity * similarity + w.terms * coverage + w.context * around

    def _with_predecessor(self, sentence: StoredSentence) -> StoredSentence:
        """The sentence before, when this one only makes sense with it and both fit the word limit."""
        if sentence.position == 0 or not _POINTS_BACK.match(sentence.text):
            return sentence
        previous = self.store.sentences[sentence.row - 1]
        words = len(_WORD.findall(previous.text)) + len(_WORD.findall(sentence.text))
        return previous if previous.doc_id == sentence.doc_id and words <= self.max_words else sentence

    def _bounded(self, first: StoredSentence, last: StoredSentence, query: Query) -> tuple[int, int]:
        """Offsets of the quote; a sentence over the word limit is cut to its most relevant window."""
        words = list(_WORD.finditer(self.store.documents[last.doc_id].text, first.start, last.end))
        if len(words) <= self.max_words:
            return first.start, last.end
        wanted = set(query.terms)
        hits = [bool(wanted & set(terms)) for terms in self.terms.analyzer.run([w.group() for w in words])]
        best = max(range(len(words) - self.max_words + 1), key=lambda i: sum(hits[i : i + self.max_words]))
        return words[best].start(), words[best + self.max_words - 1].end()

    def _corroborating(self, *own_rows: int) -> list[Citation]:
        """One citation per other article holding a near-duplicate of the quoted sentence(s), closest first."""
        own_doc = self.store.sentences[own_rows[0]].doc_id
        vectors = self.store.sentence_vectors
        similarity = vectors @ vectors[list(own_rows)].T
        best = similarity.max(axis=1)
        citations, seen = [], {own_doc}
        for row in np.argsort(-best):
            if best[row] < self.duplicate_similarity:
                break
            sentence = self.store.sentences[int(row)]
            if sentence.doc_id in seen:
                continue
            seen.add(sentence.doc_id)
            citations.append(Citation(sentence.doc_id, sentence.start, sentence.end, sentence.line, sentence.text))
        return citations
