"""Follow-up questions for training: a conversation's turn, or a question asked after another of its paragraph,
read as the product reads a follow-up (rag/conversation.py's FollowUpResolver)."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from rag.conversation import FollowUpResolver, Turn
from rag.lexical import names

from .data import Question
from .text import content_words


class FollowUps:
    """The earlier turns a question may follow (the other answerable questions of its paragraph, or a conversation's
    history) and the question as the product reads it after them."""

    def __init__(self, earlier: list[Question]):
        self.asked: dict[
            str, list[Question]
        ] = {}  # a follow-up's earlier turn: all `earlier` questions, also when training on some
        for q in earlier:
            if q.answerable:
                self.asked.setdefault(q.context, []).append(q)
        self._resolver = None
        self._turns: dict[tuple, list[Turn]] = {}

    def read(self, q: Question) -> str:
        """q as the product reads it after its conversation's earlier turns (rag/conversation.py): a follow-up with its
        pronoun replaced and the earlier turns' words in brackets; a question that stands alone, as asked."""
        context = self.resolver.run(q.question, self.turns(q.context, q.history)) if q.history else None
        return context.question if context else q.question

    def turns(self, story: str, history: tuple[tuple[str, str], ...]) -> list[Turn]:
        """A conversation's earlier turns as the product keeps them: each question as it was understood after the
        turns before it, with its answer (CoQA's and DoQA's written answers stand for the product's quotes)."""
        key = (story, history)
        if key not in self._turns:
            earlier = self.turns(story, history[:-1]) if len(history) > 1 else []
            asked, answer = history[-1]
            context = self.resolver.run(asked, earlier)
            self._turns[key] = [
                *earlier,
                Turn(
                    context.question if context else asked,
                    answer,
                    None,
                    asked=asked,
                    carried=context.carried if context else "",
                    about=context.about if context else "",
                ),
            ]
        return self._turns[key]

    def others(self, q: Question) -> list[Question]:
        """The other answerable questions of q's paragraph: the turns that may come before q in a conversation."""
        return [p for p in self.asked.get(q.context, ()) if p.question != q.question]

    def earlier(self, q: Question, rng: random.Random) -> Question | None:
        """One of q's `others`, as the turn before q; None when there is none."""
        earlier = self.others(q)
        return rng.choice(earlier) if earlier else None

    def carried(self, q: Question, rng: random.Random) -> str | None:
        """What an earlier turn of a conversation carries into a follow-up asking q (rag/conversation.py), that turn
        being another question asked of the same paragraph and its answer; None when the paragraph has no other.
        The reader learns that the answer is what the question itself asks, not what the earlier words point at."""
        if not (p := self.earlier(q, rng)):
            return None
        return self.resolver.carried(_turn(p))

    def followed(self, q: Question, rng: random.Random) -> str | None:
        """q cut down to a follow-up of another question of its paragraph (FollowUp.make), as the product reads it,
        after the first question of its paragraph that it can follow; None when it can follow none. The reader learns
        to answer a question that needs the earlier turn to be whole."""
        earlier = self.others(q)
        for p in rng.sample(earlier, len(earlier)):  # the first earlier turn q can follow
            if made := FollowUp.make(q, p, rng):
                context = self.resolver.run(made.question, [_turn(p)])
                return context.question if context else made.question
        return None

    @property
    def resolver(self) -> FollowUpResolver:
        self._resolver = self._resolver or FollowUpResolver()
        return self._resolver


def _turn(p: Question) -> Turn:
    """p asked and answered as a conversation's earlier turn."""
    return Turn(p.question, p.answer_text, None, asked=p.question)


_HE, _SHE = re.compile(r"\b(he|him|his)\b", re.IGNORECASE), re.compile(r"\b(she|her|hers)\b", re.IGNORECASE)
_BARE = re.compile(
    r"^\s*(why|when|where|who|how (?:many|much|long|old|often|far)|what year|in what year)\b", re.IGNORECASE
)
_AFTER_NAME = re.compile(
    r"\s*(?:$|[?,.;:]|(?:is|was|are|were|did|does|do|has|have|had|can|could|will|would|and|or|in|on|at|to|"
    r"for|of|from|by|with|after|before|during|since|first|become|became|\w+ed)\b)"
)
_BEFORE_NAME = re.compile(
    r"\b(?:is|was|are|were|did|does|do|has|have|had|can|could|will|would|should|may|might|must)\s+$", re.IGNORECASE
)  # "did Adolphe Sax invent…": the name is the subject, whatever word follows
_MENTIONED = re.compile(
    r"\b(?:term|word|name|title|phrase|called|named|spelled)\s+$", re.IGNORECASE
)  # a name talked about
_INSIDE_NAME = re.compile(r"\s+(?:of\s+|de\s+|y\s+)?[A-Z]|[\w.-]")
_THE = re.compile(r"\b(?:[Tt]he|[Tt]his)\s+")
_AFTER_PHRASE = re.compile(  # what may follow a whole noun phrase: not "of" ("the cause of…") nor a noun ("the title page")
    r"\s*(?:$|[?,.;:]|(?:is|was|are|were|did|does|do|has|have|had|can|could|will|would|in|on|at|to|for|from|by|"
    r"with|after|before|during|since|(?!(?:seed|need|speed|hundred|bed|shed|breed|feed|weed|reed|creed|red|bread)\b)\w+ed)\b)"
)
_PERSON_NOUN = re.compile(
    r"\b(?:author|user|writer|reviewer|purchaser|buyer|customer|poster|commenter|narrator|person|owner|"
    r"mayor|man|woman|president|king|queen|men|women|people|children)s?\b"
)  # a person, who is not "it"
_OBJECT = re.compile(
    r"\b(?!(?:is|was|are|were|did|does|do|has|have|had|can|could|will|would|should|may|might|must|who|what|"
    r"when|where|why|how|and|or|but|that|than|as)\s)[a-z]+\s+$"
)  # a verb or preposition: "replace him", "with him"
_WHO = re.compile(r"\s*(?:who|whom)\b", re.IGNORECASE)
_TITLE_PRONOUNS = {"You", "We", "They", "It", "He", "She"}  # capitalised inside a title ("No-One but You")


@dataclass(frozen=True)
class FollowUp:
    """A question asked as a follow-up, the way people ask one: `question` as typed, `kind` how it was cut down."""

    question: str
    kind: (
        str  # "pronoun": a name of the earlier turn → he/she/it/there; "it": a phrase of it → it/that; "bare": "When?"
    )

    @staticmethod
    def make(q: Question, earlier: Question, rng: random.Random) -> FollowUp | None:
        """q cut down against the earlier turn (its question and answer), or None: a name both name becomes a pronoun
        (_pronoun_for_name); else a question all of whose words the earlier turn said keeps its question word alone
        ("When?"); else "the treaty" said in the earlier turn becomes "it" or "that" (_it_for_phrase). Each keeps
        what only q asks, so it stays answerable."""
        if made := _pronoun_for_name(q, earlier):
            return made
        said = content_words(f"{earlier.question} {earlier.answer_text}")
        if (bare := _BARE.match(q.question)) and (asked := content_words(q.question)) and asked <= said:
            return FollowUp(bare.group(1).capitalize() + "?", "bare")
        return _it_for_phrase(q, earlier, rng)


def _pronoun_for_name(q: Question, earlier: Question) -> FollowUp | None:
    """q with the longest name that the earlier turn also names made a pronoun: he or she where the sentences naming
    it say so, him or her after a verb or preposition; else "in Houston" → "there", "the Houston Post" → it, it where
    the paragraph speaks of no one. Someone the sentences leave unsettled is left alone, never "it"."""
    answered = names(earlier.answer_text, opening=True)
    known = names(earlier.question) + answered
    shared = [n for n in names(q.question) if any(n in m or m in n for m in known)]
    text = q.question
    asks_who = bool(_WHO.match(earlier.question))  # a name in the answer to "Who…?" is someone's
    for name in sorted(shared, key=len, reverse=True):
        found = re.search(re.escape(name) + r"(['’]s?)?", text)
        if not found or not _points_at(text, name, found):
            continue
        start, before = found.start(), text[: found.start()]
        if the := re.search(r"\bthe\s+$", before, re.IGNORECASE):
            start = the.start()
        possessive = bool(found.group(1))
        someone = asks_who and any(name in n or n in name for n in answered)
        word = _pronoun(q.context, name, possessive, someone)
        if word not in ("he", "she", "his", "her") and not someone:
            if place := None if possessive else re.search(r"\b(in|at)\s+$", before, re.IGNORECASE):
                start, word = place.start(), "there"  # "in Houston"
            elif the:
                word = "its" if possessive else "it"  # "the Houston Post": no one
        if not word:
            continue  # someone whose paragraph does not say he or she: not "it"
        if not possessive and word in ("he", "she") and _OBJECT.search(text[:start]):
            word = {"he": "him", "she": "her"}[word]  # "…with him", "…who summoned him?", "…replace him in 1990?"
        asked = text[:start] + word + text[found.end() :]
        return FollowUp(asked[0].upper() + asked[1:], "pronoun")
    return None


def _points_at(text: str, name: str, found: re.Match) -> bool:
    """Whether `name`, found in `text`, points at someone or something a pronoun may stand for: not part of a longer
    name or of a title, not a name talked about, not a modifier ("How many Queen bootlegs…")."""
    if (
        name in _TITLE_PRONOUNS
        or _INSIDE_NAME.match(text, found.end())
        or re.search(r"[A-Z][\w.'’-]*\s$", text[: found.start()])
    ):
        return False  # part of a longer name, or of a title
    if _MENTIONED.search(text[: found.start()]):
        return False  # talked about, not pointed at ("When was the term Serbo-Croatian first used?")
    return bool(found.group(1) or _AFTER_NAME.match(text, found.end()) or _BEFORE_NAME.search(text[: found.start()]))


def _it_for_phrase(q: Question, earlier: Question, rng: random.Random) -> FollowUp | None:
    """q with "the treaty" said in the earlier turn made "it" or "that", where it is a whole phrase and no person
    ("the title page", "the cause of…", "the author" are not); None where q has no such phrase."""
    text = q.question
    spoken = f"{earlier.question} {earlier.answer_text}".lower()
    phrases = [
        (the.start(), the.end(), " ".join(words[:n]))
        for the in _THE.finditer(text, 1)
        for words in [re.findall(r"[^\s?!.,;:]+", text[the.end() :])[:3]]
        for n in range(len(words), 0, -1)
    ]
    for start, end, words in sorted(phrases, key=lambda p: -len(p[2])):
        if (
            words.islower()
            and words.isascii()
            and words in spoken
            and content_words(words) == set(words.split())
            and _AFTER_PHRASE.match(text, end + len(words))
            and not _PERSON_NOUN.search(words)
        ):
            return FollowUp(text[:start] + rng.choice(("it", "that")) + text[end + len(words) :], "it")
    return None


def _pronoun(context: str, name: str, possessive: bool, person: bool = False) -> str | None:
    """He or she where the sentences naming `name` (and each one after) speak of a man or a woman (twice as often as of
    the other), it where they speak of no one and the paragraph of no one either; None where it may be someone whom
    they do not settle: a `person`, or a paragraph speaking of people ("How many slaves were executed with it?" for
    Vesey; Donda West in a paragraph on her son is not "he")."""
    sentences = re.split(r"(?<=[.!?])\s+", context)
    near = " ".join(s for i, s in enumerate(sentences) if name in s or (i and name in sentences[i - 1])) or context
    he, she = len(_HE.findall(near)), len(_SHE.findall(near))
    if he and he > 2 * she:
        word = "he"
    elif she and she > 2 * he:
        word = "she"
    elif person or _HE.search(context) or _SHE.search(context):
        return None
    else:
        word = "it"
    return {"he": "his", "she": "her", "it": "its"}[word] if possessive else word
