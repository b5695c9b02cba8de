"""Passages → answer: pick the sentence that best answers the question, quote it verbatim and cite it.

Each sentence of the retrieved passages is scored on five kinds of evidence:

- its embedding's cosine similarity to the question's,
- the IDF-weighted share of the question's terms it contains (BM25-style term evidence),
- the similarity of the passage around it and of its neighbouring sentences,
- whether it names an entity of the type the question asks for ("who" → a person, "when" → a
  date, "how many" → a number, "where" → a place) that the question itself does not name,
- whether it is itself a question (an FAQ heading asks, the sentence after it answers).

The best sentence is quoted (with its predecessor when it opens with a word that points back,
like "He" or "This"), the entity of the expected type becomes the short answer span, and every
other article that states the same thing is cited too. The score is mapped to a confidence by a
logistic curve; below 0.5 the builder abstains and returns the passages alone.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field

import numpy as np

from .entities import DURATION, Entity, expected_types
from .lexical import TermStatistics, contains_answer, normalize_answer
from .retrieval import Passage, Query
from .store import IndexStore, StoredSentence

NOT_ANSWERED = "The articles do not answer this question."
_POINTS_BACK = re.compile(
    r"^[\W_]*(he|she|it|they|this|that|these|those|his|her|its|their|but|however|also|yet|still|then|"
    r"there|such|both|meanwhile|instead|moreover|furthermore)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"\S+")
_LENGTH = re.compile(r"\b(second|minute|hour|day|week|month|year|decade|centur)", re.IGNORECASE)


@dataclass(frozen=True)
class Span:
    """The phrase that answers the question, as offsets into the cited document."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Citation:
    """Where a quote stands: `source` is the file relative to the corpus root; `start`/`end` index the
    document's text (for .html the extracted main text; line endings normalised to \\n); `line` is 1-based."""

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
    """Chosen by a grid search that maximised gold hit + gold abstain recall + SQuAD hit at a false
    abstain rate of at most 5% on the gold set (see eval/README.md, "How the defaults were chosen")."""

    similarity: float = 0.6
    terms: float = 0.2
    context: float = 0.3
    neighbours: float = 0.05
    answer_type: float = 0.15
    is_question: float = 0.3


@dataclass(frozen=True)
class Calibration:
    """Score → confidence: confidence is 0.5 at `threshold` and rises with slope `slope`."""

    threshold: float = 0.49
    slope: float = 10.0

    def confidence(self, score: float) -> float:
        return 1.0 / (1.0 + math.exp(-self.slope * (score - self.threshold)))


def _gap(entity: Entity, anchors: list[tuple[int, int]]) -> int:
    """Characters between an entity and the nearest anchor word (0 when they touch or overlap)."""
    return min(max(a_start - entity.end, entity.start - a_end, 0) for a_start, a_end in anchors)


class AnswerBuilder:
    """Chooses, bounds and cites the extractive answer among the retrieved passages' sentences."""

    def __init__(self, store: IndexStore, terms: TermStatistics, weights: ScoringWeights = ScoringWeights(),
                 calibration: Calibration = Calibration(), max_words: int = 60, duplicate_similarity: float = 0.9,
                 corroboration_margin: float = 0.15, near_chars: int = 40):
        self.store = store
        self.terms = terms
        self.weights = weights
        self.calibration = calibration
        self.max_words = max_words
        self.duplicate_similarity = duplicate_similarity
        self.corroboration_margin = corroboration_margin
        self.near_chars = near_chars

    def run(self, query: Query, passages: list[Passage]) -> Answer:
        rows, context = self._candidates(query, passages)
        if not rows:
            return Answer(query.text, "", True, 0.0, passages=passages)
        similarity = self.store.sentence_vectors @ query.vector
        types = expected_types(query.text)
        scores = self.score(query, rows, context, similarity, types)
        best = int(np.argmax(scores))
        confidence = self.calibration.confidence(float(scores[best]))
        if confidence < 0.5:
            return Answer(query.text, "", True, confidence, passages=passages)
        sentence = self.store.sentences[rows[best]]
        first = self._with_predecessor(sentence)
        start, end = self._bounded(first, sentence, query)
        document = self.store.documents[sentence.doc_id]
        span = self._span(query, types, [s for s in (first, sentence) if s.start >= start and s.end <= end] or [sentence], start, end)
        citations = [Citation(sentence.doc_id, start, end, first.line, document.text[start:end])]
        citations += self._corroborating({first.row, sentence.row}, span, similarity)
        return Answer(query.text, citations[0].quote, False, confidence, citations, passages, span)

    def _candidates(self, query: Query, passages: list[Passage]) -> tuple[list[int], dict[int, float]]:
        """Sentence rows of the passages, in passage order, each with its best passage similarity."""
        context: dict[int, float] = {}
        for passage in passages:
            chunk = self.store.chunks[passage.chunk_id]
            passage_similarity = float(self.store.chunk_index.reconstruct(chunk.id) @ query.vector)
            for row in chunk.sentence_rows:
                context[row] = max(context.get(row, -1.0), passage_similarity)
        return list(context), context

    def score(self, query: Query, rows: list[int], context: dict[int, float], similarity: np.ndarray,
              types: tuple[str, ...]) -> np.ndarray:
        w = self.weights
        sentences = [self.store.sentences[row] for row in rows]
        coverage = np.array([self.terms.coverage(query.terms, row) for row in rows])
        around = np.array([context[row] for row in rows])
        neighbours = np.array([self._neighbour_similarity(s, similarity) for s in sentences])
        if types:
            typed = np.array([self._type_evidence(query, types, s) for s in sentences])
        else:
            typed = np.zeros(len(rows))
        asks = np.array([s.text.rstrip("”\"’' ").endswith("?") for s in sentences], dtype=float)
        return (w.similarity * similarity[rows] + w.terms * coverage + w.context * around
                + w.neighbours * neighbours + w.answer_type * typed - w.is_question * asks)

    def _neighbour_similarity(self, sentence: StoredSentence, similarity: np.ndarray) -> float:
        rows = [r for r in (sentence.row - 1, sentence.row + 1)
                if 0 <= r < len(self.store.sentences) and self.store.sentences[r].doc_id == sentence.doc_id]
        return max((float(similarity[r]) for r in rows), default=0.0)

    def _answer_entities(self, query: Query, types: tuple[str, ...], sentence: StoredSentence) -> list[Entity]:
        """Entities of the expected types that the question does not already name."""
        text = self.store.documents[sentence.doc_id].text
        asked = normalize_answer(query.text)
        return [e for e in sentence.entities if e.label in types and normalize_answer(text[e.start : e.end]) not in asked]

    def _type_evidence(self, query: Query, types: tuple[str, ...], sentence: StoredSentence) -> float:
        """1 when the sentence names an entity of the asked-for type next to the question's words,
        0 when only farther away, -1 when it names none."""
        entities = self._answer_entities(query, types, sentence)
        if not entities:
            return -1.0
        text = self.store.documents[sentence.doc_id].text
        anchors = self._anchors(query, text, sentence.start, sentence.end)
        return 1.0 if min(_gap(e, anchors) for e in entities) <= self.near_chars else 0.0

    def _anchors(self, query: Query, text: str, start: int, end: int) -> list[tuple[int, int]]:
        """Offsets of the words in text[start:end] that carry one of the question's terms."""
        words = list(_WORD.finditer(text, start, end))
        analysed = self.terms.analyzer.run([w.group() for w in words])
        return [(w.start(), w.end()) for w, terms in zip(words, analysed) if set(terms) & set(query.terms)] or [(start, start)]

    def _span(self, query: Query, types: tuple[str, ...], sentences: list[StoredSentence], start: int, end: int) -> Span | None:
        """The expected-type entity nearest the question's words in the quote; None when there is none."""
        if not types:
            return None
        entities = [e for s in sentences for e in self._answer_entities(query, types, s) if e.start >= start and e.end <= end]
        if not entities:
            return None
        text = self.store.documents[sentences[0].doc_id].text
        anchors = self._anchors(query, text, start, end)

        def distance(entity: Entity) -> float:
            gap = _gap(entity, anchors)
            not_a_length = types == DURATION and not _LENGTH.search(text[entity.start : entity.end])
            return gap / 6 + 5 * types.index(entity.label) + 10 * not_a_length

        best = min(entities, key=distance)
        return Span(text[best.start : best.end], best.start, best.end)

    def _with_predecessor(self, sentence: StoredSentence) -> StoredSentence:
        """The sentence before, when this one only makes sense with it and both fit the word limit."""
        if sentence.position == 0 or not _POINTS_BACK.match(sentence.text):
            return sentence
        previous = self.store.sentences[sentence.row - 1]
        words = len(_WORD.findall(previous.text)) + len(_WORD.findall(sentence.text))
        return previous if previous.doc_id == sentence.doc_id and words <= self.max_words else sentence

    def _bounded(self, first: StoredSentence, last: StoredSentence, query: Query) -> tuple[int, int]:
        """Offsets of the quote; a sentence over the word limit is cut to its most relevant window."""
        text = self.store.documents[last.doc_id].text
        words = list(_WORD.finditer(text, first.start, last.end))
        if len(words) <= self.max_words:
            return first.start, last.end
        anchors = {a_start for a_start, _ in self._anchors(query, text, first.start, last.end)}
        hits = [w.start() in anchors for w in words]
        best = max(range(len(words) - self.max_words + 1), key=lambda i: sum(hits[i : i + self.max_words]))
        return words[best].start(), words[best + self.max_words - 1].end()

    def _corroborating(self, own_rows: set[int], span: Span | None, similarity: np.ndarray) -> list[Citation]:
        """One citation per other article that states the same: a near-duplicate of the quote, or a sentence
        about as close to the question that holds the same short answer. Closest to the question first."""
        own = sorted(own_rows)
        own_doc = self.store.sentences[own[0]].doc_id
        vectors = self.store.sentence_vectors
        duplicate = (vectors @ vectors[own].T).max(axis=1) >= self.duplicate_similarity
        floor = max(float(similarity[r]) for r in own) - self.corroboration_margin
        best: dict[str, StoredSentence] = {}
        for row in np.flatnonzero(duplicate | (similarity >= floor)):
            sentence = self.store.sentences[int(row)]
            if sentence.doc_id == own_doc:
                continue
            if not duplicate[row] and not (span and contains_answer(sentence.text, [span.text])):
                continue
            if sentence.doc_id not in best or similarity[row] > similarity[best[sentence.doc_id].row]:
                best[sentence.doc_id] = sentence
        ranked = sorted(best.values(), key=lambda s: -similarity[s.row])
        return [Citation(s.doc_id, s.start, s.end, s.line, s.text) for s in ranked]
