"""Hard "no answer here" cases made from answerable questions: the fact taken out, another paragraph, another name."""

from __future__ import annotations

import random
from itertools import pairwise

from rag.lexical import names

from .data import Question
from .followups import FollowUps
from .text import SENTENCE_END, content_words

RECIPES = ("other", "removed", "swapped")  # how an answerable question is made a hard "no answer" case


def without_answer(q: Question) -> str | None:
    """The paragraph with every sentence that holds the answer taken out: still on its subject, the fact gone.
    None when nothing or too little would be left, or the answer still stands in what is left."""
    cuts = [0, *(m.end() for m in SENTENCE_END.finditer(q.context)), len(q.context)]
    sentences = [(a, b) for a, b in pairwise(cuts) if q.context[a:b].strip()]
    ends = [s + len(q.answer_text) for s in q.answer_starts]
    kept = [
        q.context[a:b].strip()
        for a, b in sentences
        if not any(a < e and s < b for s, e in zip(q.answer_starts, ends, strict=True))
    ]
    text = " ".join(kept)
    if len(kept) < 2 or any(a.lower() in text.lower() for a in q.answers if a):
        return None
    return text


class NegativeFinder(FollowUps):
    """The hard "no answer here" cases for a question, from its own article: the paragraph (of the same
    article, else of the same source) that shares most of the question's words but not its answer, and
    the question asked of another person or thing that the article names. As FollowUps, the earlier turns
    its questions may follow: every question of `earlier` (default: `questions`)."""

    def __init__(
        self, questions: list[Question], seed: int, candidates: int = 40, earlier: list[Question] | None = None
    ):
        self.seed = seed
        self.candidates = candidates
        self.by_title: dict[tuple[str, str], list[str]] = {}
        self.by_source: dict[str, list[str]] = {}
        seen = set()
        for q in questions:
            self.by_title.setdefault((q.source, q.title), [])
            self.by_source.setdefault(q.source, [])
            if q.context not in seen:
                seen.add(q.context)
                self.by_title[(q.source, q.title)].append(q.context)
                self.by_source[q.source].append(q.context)
        self.everything = [c for contexts in self.by_source.values() for c in contexts]
        self._names: dict[tuple[str, str], list[str]] = {}
        super().__init__(earlier or questions)

    def paragraph(self, q: Question, exclude: set[str], rng: random.Random) -> str:
        """The paragraph not in `exclude` that shares most content words with q and holds none of its answers."""
        pool = [c for c in self.by_title[(q.source, q.title)] if c not in exclude]
        for wider in (
            self.by_source[q.source],
            self.everything,
        ):  # the article has no other paragraph: its source's, or any
            if not pool:
                pool = [c for c in rng.sample(wider, min(self.candidates, len(wider))) if c not in exclude]
        if not pool:
            raise ValueError("the training data needs at least three paragraphs")
        if len(pool) > self.candidates:
            pool = rng.sample(pool, self.candidates)
        asked = content_words(q.question)
        answers = [a.lower() for a in q.answers if a]
        pool = [c for c in pool if not any(a in c.lower() for a in answers)] or pool
        return max(pool, key=lambda c: (len(asked & content_words(c)), rng.random()))

    def swapped(self, q: Question, rng: random.Random) -> str | None:
        """The question with a name it shares with its paragraph replaced by another name of the same article
        that the paragraph never mentions ("When did Beyoncé leave?" → "When did Kelly Rowland leave?")."""
        key = (q.source, q.title)
        if key not in self._names:
            self._names[key] = sorted({n for c in self.by_title[key] for n in names(c)})
        asked = [n for n in names(q.question) if n in q.context]
        others = [n for n in self._names[key] if n not in q.context and n not in q.question]
        if not asked or not others:
            return None
        name = rng.choice(asked)
        alike = [
            n for n in others if len(n.split()) == len(name.split())
        ]  # "President Kennedy" for "Prime Minister Eden"
        return q.question.replace(name, rng.choice(alike or others), 1)
