"""Passages → answer: the reader finds the best span in each passage; the most probable one is quoted
verbatim, in the sentence holding it, and cited.

The reader (rag/reader.py) reads all retrieved passages of the question in one batch and scores
their spans against each other and against "no answer here". Each passage's best span is a candidate
whose probability of holding the answer comes from the reader's confidence model (rag/confidence.py);
below its threshold the builder abstains and returns the passages alone. The quote is the sentence (or
sentences) holding the best span, with its predecessor when it opens with a word that points back, like
"He" or "This"; every other article in which the reader found the same answer is cited too.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace

from . import answer_kinds
from .confidence import STATES, Candidate, features
from .conversation import Context, Said
from .lexical import Analyzer, contains_answer, mentions, names
from .metadata import Metadata, flattened, human_date
from .reader import PassageReading, Reader
from .retrieval import Passage, Query
from .store import IndexStore, StoredChunk, StoredSentence

NOT_ANSWERED = "The articles do not answer this question."
_POINTS_BACK = re.compile(
    r"^[\W_]*(he|she|it|they|this|that|these|those|his|her|its|their|but|however|also|yet|still|then|"
    r"there|such|both|meanwhile|instead|moreover|furthermore)\b",
    re.IGNORECASE,
)
_SAME_SPEAKER = re.compile(r"^[\W_]*(he|she|they|his|her|their)\b", re.IGNORECASE)  # "He added, …", not "However, …"
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
    document's text (for .html the extracted main text, for .pdf the text layer; line endings normalised to \\n);
    `line` is 1-based, `page` too (PDFs only); `meta` is the document's."""

    source: str
    start: int
    end: int
    line: int
    quote: str
    meta: Metadata = Metadata()
    page: int | None = None  # 1-based, in a PDF
    span: Span | None = None  # the answer this article gives, inside the quote
    agrees: bool = True  # False: another article's different answer, nearly as probable as the first citation's

    @property
    def label(self) -> str:
        """How a reader names it: "The Independent · 19 Dec 2024 · line 20" ("· page 3" in a PDF); where the outlet
        is unknown, by its title, shortened: "Putin Says He’s Ready to Talk With… · line 3"."""
        return f"{named(self.source, self.meta.outlet, self.meta.published, self.meta.title)} · " + (
            f"page {self.page}" if self.page else f"line {self.line}"
        )

    @property
    def date(self) -> str | None:
        """`published` as people write it: "19 Dec 2024"."""
        return human_date(self.meta.published)


NAMED_TITLE_CHARS = 40


def named(source: str, outlet: str | None, published: str | None, title: str | None = None) -> str:
    """How a reader names an article: "The Independent · 19 Dec 2024"; where the outlet is unknown, its title
    shortened to NAMED_TITLE_CHARS ("Putin Says He’s Ready to Talk With…"); its file only when it has neither."""
    return " · ".join(p for p in (outlet or short_title(title) or source, human_date(published)) if p)


def short_title(title: str | None, limit: int = NAMED_TITLE_CHARS) -> str | None:
    """The title cut at a word to at most `limit` characters, "…" marking the cut."""
    title = " ".join((title or "").split()).rstrip("…").rstrip()
    if len(title) <= limit:
        return title or None
    cut = title[: limit - 1]
    cut = cut[: cut.rfind(" ")] if " " in cut[limit // 2 :] else cut
    return cut.rstrip(" ,;:-–—") + "…"


@dataclass
class Answer:
    """`state` says how far to trust it: "answered" (the quote holds the answer with high probability),
    "tentative" (a quote is shown, but it may not answer) or "abstained" (the articles do not answer; `passages`
    are the closest). `confidence` is the calibrated probability that `text` holds the answer; `passages` are the
    retrieved ones, reranked by the reader, each with its own best span and probability; `context`, for a
    follow-up asked with the conversation's history, says how it was understood (None: as it stands)."""

    question: str
    text: str
    state: str
    confidence: float
    citations: list[Citation] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    span: Span | None = None
    context: Context | None = None

    def __post_init__(self):
        if self.state not in STATES:
            raise ValueError(f"an answer's state is one of {', '.join(STATES)}, not {self.state!r}")

    @property
    def abstained(self) -> bool:
        return self.state == "abstained"

    def to_dict(self) -> dict:
        """As JSON: each citation's and passage's `meta` flattened into it (title, outlet, published, author, url)."""
        data = asdict(self)
        for key in ("citations", "passages"):
            data[key] = [flattened(item) for item in data[key]]
        return data | {"abstained": self.abstained}


@dataclass(frozen=True)
class Judged:
    """The reader's best span in one passage, judged: `features` are its signals (rag/confidence.py) and
    `probability` the chance that `quote`, the sentence(s) holding it, holds the answer."""

    passage: int
    span: Span
    chunk: StoredChunk
    sentences: list[StoredSentence]
    features: dict[str, float]
    probability: float

    @property
    def quote(self) -> str:
        return " ".join(s.text for s in _holding(self.sentences, self.chunk, self.span))


class AnswerBuilder:
    """Reads the retrieved passages, then bounds, quotes and cites the most probable answer among them.

    Each passage's best span is a candidate, judged by the reader's confidence model (rag/confidence.py);
    the most probable one is quoted unless it is below the model's threshold (`abstain=False`: quoted all
    the same, e.g. for risk–coverage curves). `corroboration_share`: another article is cited too when its
    best span is the same answer and at least this share as probable as the answer itself; these follow
    the answer's citation newest first. `disagreement_share`: another article's different answer at least
    this share as probable is cited too, marked as not agreeing, so that a reader sees that outlets differ."""

    def __init__(
        self,
        store: IndexStore,
        reader: Reader,
        max_words: int = 60,
        corroboration_share: float = 0.1,
        disagreement_share: float = 0.5,
        analyzer: Analyzer | None = None,
    ):
        self.store = store
        self.reader = reader
        self.max_words = max_words
        self.corroboration_share = corroboration_share
        self.disagreement_share = disagreement_share
        self.analyzer = analyzer or Analyzer()

    def run(
        self, query: Query, passages: list[Passage], abstain: bool = True, said: list[Said] | None = None
    ) -> Answer:
        judged = self.judge(query, passages, said)
        ranked = _ranked(passages, judged)
        if not judged:
            return Answer(query.text, "", "abstained", 0.0, passages=ranked)
        best = judged[0]
        state = self.reader.confidence.state(best.probability)
        if state == "abstained" and abstain:
            return Answer(query.text, "", state, best.probability, passages=ranked)
        cited, corroborating, differing = {passages[best.passage].source}, [], []
        for other in judged[1:]:
            passage = passages[other.passage]
            if passage.source in cited:
                continue
            same = contains_answer(other.span.text, [best.span.text]) or contains_answer(
                best.span.text, [other.span.text]
            )
            if same and other.probability >= self.corroboration_share * best.probability:
                corroborating.append(self._cite(passage, other))
            elif (
                not same
                and other.probability >= self.disagreement_share * best.probability
                and not self.abstains(other.probability)
                and not any(
                    contains_answer(other.span.text, [c.span.text]) or contains_answer(c.span.text, [other.span.text])
                    for c in differing
                )
            ):
                differing.append(self._cite(passage, other, agrees=False))
            else:
                continue
            cited.add(passage.source)
        corroborating.sort(key=lambda c: c.meta.published or "", reverse=True)  # newest first; undated last
        citations = [self._cite(passages[best.passage], best), *corroborating, *differing]
        state = "tentative" if state == "abstained" else state  # quoted all the same (abstain=False): a guess
        return Answer(query.text, citations[0].quote, state, best.probability, citations, ranked, best.span)

    def abstains(self, probability: float) -> bool:
        """Whether an answer this probable is refused: below the confidence model's threshold."""
        return self.reader.confidence.state(probability) == "abstained"

    def judge(self, query: Query, passages: list[Passage], said: list[Said] | None = None) -> list[Judged]:
        """Every passage's best span with its signals and probability, most probable first; none is one of
        the answers already `said` (a follow-up's conversation's: it asks for something new)."""
        if not passages:
            return []
        chunks = self.store.chunks([p.chunk_id for p in passages])
        excluded = (
            {i: self._excluded(p, chunk, said) for i, (p, chunk) in enumerate(zip(passages, chunks))} if said else None
        )
        reading = self.reader.run(query.text, [p.text for p in passages], excluded)
        top_score = max(abs(passages[0].score), 1e-9)
        found = [
            (
                r.passage,
                _span(passages[r.passage], r),
                chunks[r.passage],
                self.store.sentences(chunks[r.passage], before=1),
            )
            for r in reading.spans
        ]  # the reader's order, most probable span first
        quotes = [" ".join(s.text for s in _holding(sentences, chunk, span)) for _, span, chunk, sentences in found]
        terms = self.analyzer.run(
            quotes + [span.text for _, span, _, _ in found]
        )  # one call: its cost is mostly per call
        asked, asked_names, unmentioned = query.terms, names(query.text), {}
        candidates = []
        for read, (_, span, _, _), quoted, spoken in zip(reading.spans, found, terms, terms[len(found) :]):
            passage = passages[read.passage]
            if passage.source not in unmentioned:
                unmentioned[passage.source] = self._unmentioned(asked_names, passage.source)
            candidates.append(
                Candidate(
                    span.text,
                    passage.source,
                    read.probability,
                    read.passage,
                    passage.score / top_score,
                    _share(asked, quoted),
                    answer_kinds.match(query.text, span.text),
                    _share(spoken, asked),
                    unmentioned[passage.source],
                )
            )
        confidence = self.reader.confidence
        judged = [
            Judged(*f, row, confidence.probability(row))
            for f, row in zip(found, features(candidates, reading.no_answer))
        ]
        return sorted(judged, key=lambda j: -j.probability)

    def _excluded(self, passage: Passage, chunk: StoredChunk, said: list[Said]) -> list[tuple[int, int]]:
        """The character ranges of a passage that no span may overlap: what was `said`; a statement that goes on
        (a whole quote) with the rest of its sentences and those right after it that open with its speaker's
        pronoun ("He noted, …": the same speaker still), from a few sentences before the chunk on."""
        ranges = []
        for s in (s for s in said if s.source == passage.source):
            start, end = s.start, s.end
            if s.goes_on:
                sentences = self.store.sentences(chunk, before=3)
                if holding := [x for x in sentences if x.start < s.end and x.end > s.start]:
                    start, end = min(start, holding[0].start), max(end, holding[-1].end)
                for sentence, following in zip(sentences, sentences[1:]):
                    if sentence.end == end and _SAME_SPEAKER.match(following.text):
                        end = following.end
            if start < passage.end and end > passage.start:
                ranges.append((start - passage.start, end - passage.start))
        return ranges

    def _unmentioned(self, asked_names: list[str], source: str) -> float:
        """Share of the question's names that the article never mentions ("What did China's president say…?")."""
        if not asked_names:
            return 0.0
        text = self.store.document(source).text.lower()
        return sum(not mentions(text, name) for name in asked_names) / len(asked_names)

    def _cite(self, passage: Passage, judged: Judged, agrees: bool = True) -> Citation:
        """The quote holding a span: its sentence(s), with a predecessor it points back to, at most max_words."""
        span, sentences = judged.span, judged.sentences
        holding = _holding(sentences, judged.chunk, span)
        document = self.store.document(passage.source)
        text = document.text
        previous = next((s for s in sentences if s.position == holding[0].position - 1), holding[0])
        first, last = self._with_predecessor(previous, holding[0], holding[-1], text), holding[-1]
        start, end = self._bounded(first, last, span, text)
        return Citation(
            passage.source,
            start,
            end,
            text.count("\n", 0, start) + 1,
            text[start:end],
            passage.meta,
            document.page_of(start),
            span,
            agrees,
        )

    def _with_predecessor(
        self, previous: StoredSentence, first: StoredSentence, last: StoredSentence, text: str
    ) -> StoredSentence:
        """`previous` (the sentence before `first`) when `first` opens with a word that points back and both fit the word limit."""
        if (
            previous.position != first.position - 1
            or not _POINTS_BACK.match(first.text)
            or text[previous.end : first.start].strip()
        ):
            return first  # not its predecessor, not pointing back, or furniture between them
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


def _share(terms: list[str], among: list[str]) -> float:
    """Share of `terms` (stemmed, stopwords dropped) found among `among`: how much of the question a quote's sentence
    covers, or how much of a span the question says already."""
    return len(set(terms) & set(among)) / len(set(terms)) if terms else 0.0


def _span(passage: Passage, read: PassageReading) -> Span:
    """The reader's span in a passage, as offsets into the passage's document."""
    return Span(passage.text[read.start : read.end], passage.start + read.start, passage.start + read.end)


def _holding(sentences: list[StoredSentence], chunk: StoredChunk, span: Span) -> list[StoredSentence]:
    """The sentences of a chunk that a span stands in."""
    return [s for s in sentences if s.position >= chunk.first_sentence and s.start < span.end and s.end > span.start]


def _ranked(passages: list[Passage], judged: list[Judged]) -> list[Passage]:
    """The passages with the reader's span in each and the probability that it holds the answer, most
    probable first; passages the reader found nothing in last, in the retriever's order."""
    read = {j.passage: j for j in judged}
    annotated = [
        replace(p, answer=read[i].span.text, probability=read[i].probability) if i in read else p
        for i, p in enumerate(passages)
    ]
    order = sorted(range(len(passages)), key=lambda i: -read[i].probability if i in read else 1.0)
    return [annotated[i] for i in order]
