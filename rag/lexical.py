"""Text → stemmed terms, shared by BM25 retrieval and sentence scoring so both count the same words."""

from __future__ import annotations

import re
import string
import threading

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

    def run(self, texts: list[str], as_ids: bool = False):
        """Terms of each text; `as_ids`: bm25s's compact ids and vocabulary instead, for indexing many texts."""
        import bm25s

        return bm25s.tokenize(
            texts, token_pattern=TOKEN_PATTERN, stopwords=self.stopwords, stemmer=_stemmer() if self.stem else None,
            return_ids=as_ids, show_progress=False,
        )
