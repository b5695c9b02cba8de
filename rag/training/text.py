"""Word and sentence patterns that the training rooms share."""

from __future__ import annotations

import re

WORDS = re.compile(r"\w+")
STOP = frozenset(
    "the a an of in on at to for and or is are was were be by with what who whom which when where why how "
    "did does do from that this as it its his her their they he she".split()
)
SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")


def content_words(text: str) -> set[str]:
    """The lower-cased words of `text` that are no stop words."""
    return {w for w in WORDS.findall(text.lower()) if w not in STOP}
