"""Documents → sentences → chunks, with exact character offsets into the document text.

Sentences come from pysbd (rule-based, knows "Mr. Putin", "U.S." and closing quotes) run per
paragraph; chunks pack whole sentences up to a tiktoken budget and repeat the last sentence(s)
of one chunk at the start of the next, so an answer on a boundary is still retrieved whole.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from .tokens import get_encoding

_PARAGRAPH = re.compile(r"[^\n]+")
_WORD = re.compile(r"\S+\s*")


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Chunk:
    position: int
    start: int
    end: int
    text: str
    first_sentence: int
    last_sentence: int
    n_tokens: int


@dataclass(frozen=True)
class ChunkedText:
    sentences: list[Sentence]
    chunks: list[Chunk]


@functools.cache
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


class SentenceSplitter:
    """Splits text into sentences; a sentence over `max_tokens` is cut at word boundaries."""

    def __init__(self, max_tokens: int = 128, encoding: str = "cl100k_base"):
        self.max_tokens = max_tokens
        self.encoding = encoding

    def run(self, text: str, blocks: tuple[tuple[int, int], ...] | None = None) -> list[Sentence]:
        """The sentences of each block (a range of the text that ends a sentence: a paragraph, a headline),
        by default each line; text outside the blocks (front matter, page furniture) is no sentence."""
        sentences: list[Sentence] = []
        for first, last in blocks if blocks is not None else ((p.start(), p.end()) for p in _PARAGRAPH.finditer(text)):
            paragraph = text[first:last].replace(
                "\n", " "
            )  # a wrapped block's line ends are no sentence ends; same offsets
            for start, end in _locate(paragraph, _segmenter().segment(paragraph)):
                for piece_start, piece_end in self._fit(text, first + start, first + end):
                    sentences.append(Sentence(piece_start, piece_end, text[piece_start:piece_end]))
        return sentences

    def _fit(self, text: str, start: int, end: int) -> list[tuple[int, int]]:
        """Cut a sentence longer than the budget into word-aligned pieces that fit."""
        count = get_encoding(self.encoding).encode
        if len(count(text[start:end])) <= self.max_tokens:
            return [(start, end)]
        pieces, piece_start, piece_end = [], start, start
        for word in _WORD.finditer(text, start, end):
            word_end = word.start() + len(word.group().rstrip())
            if piece_end > piece_start and len(count(text[piece_start:word_end])) > self.max_tokens:
                pieces.append((piece_start, piece_end))
                piece_start = word.start()
            while len(count(text[piece_start:word_end])) > self.max_tokens:
                # One "word" longer than the budget (a URL, base64): cut it by characters.
                cut = piece_start + max(1, self.max_tokens // 4)
                pieces.append((piece_start, cut))
                piece_start = cut
            piece_end = word_end
        if piece_end > piece_start:
            pieces.append((piece_start, piece_end))
        return pieces


def _locate(paragraph: str, segments: list[str]) -> list[tuple[int, int]]:
    """Find each segment's stripped text in the paragraph, in order (pysbd returns strings, not offsets).

    Sentences cover every non-blank character: text pysbd dropped (it can lose a sentence, e.g. one
    ending in "B♭.") or altered becomes a sentence of its own."""
    spans, cursor = [], 0

    def gap(start: int, end: int) -> None:
        skipped = paragraph[start:end]
        if skipped.strip():
            lead = len(skipped) - len(skipped.lstrip())
            spans.append((start + lead, start + len(skipped.rstrip())))

    for segment in segments:
        segment = segment.strip()
        if not segment:
            continue
        start = paragraph.find(segment, cursor)
        if start < 0:  # pysbd altered the text: keep the rest of the paragraph as one sentence
            break
        gap(cursor, start)
        spans.append((start, start + len(segment)))
        cursor = start + len(segment)
    gap(cursor, len(paragraph))
    return spans


class SentenceChunker:
    """Packs whole sentences into chunks of at most `max_tokens` tiktoken tokens, overlapping by sentences."""

    def __init__(self, max_tokens: int = 128, overlap_sentences: int = 1, encoding: str = "cl100k_base"):
        if max_tokens < 8:
            raise ValueError("max_tokens must be at least 8")
        if overlap_sentences < 0:
            raise ValueError("overlap_sentences must be 0 or more")
        self.max_tokens = max_tokens
        self.overlap_sentences = overlap_sentences
        self.encoding = encoding

    @property
    def settings(self) -> dict:
        return {"max_tokens": self.max_tokens, "overlap_sentences": self.overlap_sentences, "encoding": self.encoding}

    def run(self, text: str, blocks: tuple[tuple[int, int], ...] | None = None) -> ChunkedText:
        sentences = SentenceSplitter(self.max_tokens, self.encoding).run(text, blocks)
        count = get_encoding(self.encoding).encode
        chunks: list[Chunk] = []
        first = 0
        while first < len(sentences):
            last = first
            while (
                last + 1 < len(sentences)
                and _joined(text, sentences[last], sentences[last + 1])
                and len(count(text[sentences[first].start : sentences[last + 1].end])) <= self.max_tokens
            ):
                last += 1
            start, end = sentences[first].start, sentences[last].end
            chunks.append(Chunk(len(chunks), start, end, text[start:end], first, last, len(count(text[start:end]))))
            if last + 1 >= len(sentences):
                break
            joined = _joined(text, sentences[last], sentences[last + 1])
            first = max(first + 1, last + 1 - self.overlap_sentences) if joined else last + 1  # no overlap across a gap
        return ChunkedText(sentences, chunks)


def _joined(text: str, sentence: Sentence, following: Sentence) -> bool:
    """Whether only white space stands between two sentences: a chunk never spans text outside the blocks
    (front matter, page furniture), which would otherwise be embedded, matched and read with it."""
    return not text[sentence.end : following.start].strip()
