"""Text → stemmed terms, shared by BM25 retrieval and sentence scoring so both count the same words."""

from __future__ import annotations

import math
import re
import string
import threading
from collections import Counter

# Words that shape a question but are not evidence for an answer.
QUESTION_WORDS = (
    "who", "whom", "whose", "what", "which", "when", "where", "why", "how", "does", "did", "do",
    "is", "was", "were", "has", "have", "had", "can", "could", "would", "should", "will", "according",
)
TOKEN_PATTERN = r"(?u)\b\w+\b"
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = set(string.punctuation) | set("‘’“”–—…")


def normalize_answer(text: str) -> str:
    """SQuAD's answer normalisation: lower case, no punctuation, no articles, single spaces."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def contains_answer(text: str, answers: list[str]) -> bool:
    """Whether one of the answers stands in the text as whole words, after normalisation."""
    normalized = f" {normalize_answer(text)} "
    return any(f" {normalize_answer(a)} " in normalized for a in answers if normalize_answer(a))


_local = threading.local()


def _stemmer():
    """One Snowball stemmer per thread: PyStemmer's must not be called concurrently."""
    if not hasattr(_local, "stemmer"):
        import Stemmer

        _local.stemmer = Stemmer.Stemmer("english")
    return _local.stemmer


class Analyzer:
    """Lower-cases, splits on word characters, drops English stopwords and stems (Snowball).

    Both steps are on by default: they gave BM25 its best recall@1 on both gold sets
    (`eval/bm25_variants.py`, figures in eval/README.md)."""

    def __init__(self, stem: bool = True, stopwords: bool = True, extra_stopwords: tuple[str, ...] = QUESTION_WORDS):
        from bm25s.stopwords import STOPWORDS_EN

        self.stem = stem
        self.stopwords = sorted(set(STOPWORDS_EN) | set(extra_stopwords)) if stopwords else []

    def run(self, texts: list[str]) -> list[list[str]]:
        import bm25s

        return bm25s.tokenize(
            texts, token_pattern=TOKEN_PATTERN, stopwords=self.stopwords, stemmer=_stemmer() if self.stem else None,
            return_ids=False, show_progress=False,
        )


class TermStatistics:
    """Each sentence's set of terms and every term's inverse document frequency over sentences."""

    def __init__(self, analyzer: Analyzer, sentence_terms: list[frozenset[str]]):
        self.analyzer = analyzer
        self.sentence_terms = sentence_terms
        n = len(sentence_terms)
        df = Counter(term for terms in sentence_terms for term in terms)
        self.idf = {term: math.log(1 + (n - count + 0.5) / (count + 0.5)) for term, count in df.items()}
        self.unseen_idf = math.log(1 + (n + 0.5) / 0.5)

    @classmethod
    def from_texts(cls, texts: list[str], analyzer: Analyzer) -> TermStatistics:
        return cls(analyzer, [frozenset(terms) for terms in analyzer.run(texts)] if texts else [])

    def weight(self, term: str) -> float:
        return self.idf.get(term, self.unseen_idf)

    def coverage(self, query_terms: list[str], row: int) -> float:
        """IDF-weighted share of the question's terms that the sentence contains (0 to 1)."""
        wanted = set(query_terms)
        total = sum(self.weight(t) for t in wanted)
        if not total:
            return 0.0
        return sum(self.weight(t) for t in wanted if t in self.sentence_terms[row]) / total
