"""Passages → answer: the reader picks the span that answers the question; the sentence holding it is
quoted verbatim and cited.

The reader (rag/reader.py) reads all retrieved passages of the question in one batch and scores
their spans against each other and against "no answer here". Its calibrated confidence is the
probability that the quote holds the answer; below the calibrated threshold the builder abstains
and returns the passages alone. The quote is the sentence (or sentences) holding the best span,
with its predecessor when it opens with a word that points back, like "He" or "This"; every other
article in which the reader found the same answer is cited too.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace

from .lexical import contains_answer
from .reader import PassageReading, Reader, Reading
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
    """`confidence` is the calibrated probability that `text` holds the answer; `passages` are the
    retrieved ones, reranked by the reader, each with its own best span and probability."""

    question: str
    text: str
    abstained: bool
    confidence: float
    citations: list[Citation] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    span: Span | None = None

    def to_dict(self) -> dict:
        return asdict(self)


class AnswerBuilder:
    """Reads the retrieved passages, then bounds, quotes and cites the best answer among them.

    `corroboration_share`: another article is cited too when the reader's best span there is the same
    answer and at least this share as probable as the answer itself."""

    def __init__(self, store: IndexStore, reader: Reader, max_words: int = 60, corroboration_share: float = 0.1):
        self.store = store
        self.reader = reader
        self.max_words = max_words
        self.corroboration_share = corroboration_share

    def run(self, query: Query, passages: list[Passage]) -> Answer:
        if not passages:
            return Answer(query.text, "", True, 0.0)
        reading = self.reader.run(query.text, [p.text for p in passages])
        ranked = _reranked(passages, reading)
        merged = _merged(passages, reading)
        calibration = self.reader.calibration
        confidence = calibration.confidence(merged)
        if merged.best is None or confidence < calibration.threshold:
            return Answer(query.text, "", True, confidence, passages=ranked)
        span = _span(passages[merged.best.passage], merged.best)
        citations = [self._cite(passages[merged.best.passage], span)]
        for read in merged.spans[1:]:
            passage, found = passages[read.passage], _span(passages[read.passage], read)
            if (passage.source not in {c.source for c in citations} and read.probability >= self.corroboration_share * merged.best.probability
                    and (contains_answer(found.text, [span.text]) or contains_answer(span.text, [found.text]))):
                citations.append(self._cite(passage, found))
        return Answer(query.text, citations[0].quote, False, confidence, citations, ranked, span)

    def _cite(self, passage: Passage, span: Span) -> Citation:
        """The quote holding a span: its sentence(s), with a predecessor it points back to, at most max_words."""
        [chunk] = self.store.chunks([passage.chunk_id])
        sentences = self.store.sentences(chunk, before=1)
        holding = [s for s in sentences if s.position >= chunk.first_sentence and s.start < span.end and s.end > span.start]
        text = self.store.document(passage.source).text
        previous = next((s for s in sentences if s.position == holding[0].position - 1), holding[0])
        first, last = self._with_predecessor(previous, holding[0], holding[-1], text), holding[-1]
        start, end = self._bounded(first, last, span, text)
        return Citation(passage.source, start, end, text.count("\n", 0, start) + 1, text[start:end])

    def _with_predecessor(self, previous: StoredSentence, first: StoredSentence, last: StoredSentence, text: str) -> StoredSentence:
        """`previous` (the sentence before `first`) when `first` opens with a word that points back and both fit the word limit."""
        if previous.position != first.position - 1 or not _POINTS_BACK.match(first.text):
            return first
        return previous if len(_WORD.findall(text[previous.start : last.end])) <= self.max_words else first

    def _bounded(self, first: StoredSentence, last: StoredSentence, span: Span, text: str) -> tuple[int, int]:
        """Offsets of the quote; one over the word limit is cut to the window of words centred on the span."""
        words = list(_WORD.finditer(text, first.start, last.end))
        if len(words) <= self.max_words:
            return first.start, last.end
        first_word = next(i for i, w in enumerate(words) if w.end() > span.start)
        last_word = max(i for i, w in enumerate(words) if w.start() < span.end)
        room = self.max_words - (last_word - first_word + 1)
        if room <= 0:
            return words[first_word].start(), words[last_word].end()
        begin = max(0, min(first_word - room // 2, len(words) - self.max_words))
        return words[begin].start(), words[begin + self.max_words - 1].end()


def _span(passage: Passage, read: PassageReading) -> Span:
    """The reader's span in a passage, as offsets into the passage's document."""
    return Span(passage.text[read.start : read.end], passage.start + read.start, passage.start + read.end)


def _merged(passages: list[Passage], reading: Reading) -> Reading:
    """The reading with the same document span read in two overlapping chunks (they share a sentence)
    counted once, its probabilities summed."""
    merged: dict[tuple[str, int, int], PassageReading] = {}
    for read in reading.spans:
        span = _span(passages[read.passage], read)
        key = (passages[read.passage].source, span.start, span.end)
        merged[key] = replace(merged[key], probability=merged[key].probability + read.probability) if key in merged else read
    return Reading(sorted(merged.values(), key=lambda r: -r.probability), reading.no_answer)


def _reranked(passages: list[Passage], reading: Reading) -> list[Passage]:
    """The passages with the reader's span and probability, most probable answer first; unread ones last."""
    read = {r.passage: r for r in reading.spans}
    annotated = [
        replace(p, answer=_span(p, read[i]).text, probability=read[i].probability) if i in read else p
        for i, p in enumerate(passages)
    ]
    order = sorted(range(len(passages)), key=lambda i: -read[i].probability if i in read else 1.0)
    return [annotated[i] for i in order]
