"""The qa-train files read into questions, their split by article, and the mix a plan trains on."""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from .text import SENTENCE_END, WORDS

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "qa-train"
NEW_SOURCES = {
    "squad2-unanswerable.json.gz": "squad2-unanswerable",
    "coqa-train.json.gz": "coqa-train",
    "doqa-train.json.gz": "doqa-train",
}  # added for reader v3; every other file is replayed
HELD_OUT = 20  # one article (or context, where a file has few articles) in HELD_OUT is kept out of training


@dataclass
class Question:
    source: str
    title: str
    context: str
    question: str
    answer_starts: tuple[
        int, ...
    ]  # where the answer stands (every occurrence when the file's offset is a guess); () unanswerable
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
    the story (yes, no, free-form) are left out."""
    questions, seen, held_context = [], set(), {}
    files = sorted(Path(shared).glob("*.json.gz"))
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
                    paired = "paired_with" in qa  # squad2-unanswerable: lower-cased, re-spaced, on a squad1 paragraph
                    split = held_context.get(context, split_of(key)) if paired else split_of(key)
                    held_context.setdefault(context, split)
                    questions.append(_question(name, article["title"], context, qa, split))
    return questions


def _question(name: str, title: str, context: str, qa: dict, split: str) -> Question:
    """One qa of a file as a Question. Where the file only knows an answer's first occurrence
    (`answer_start_ambiguous`), every occurrence counts as gold, so the right one is never taught as wrong."""
    answers = [a["text"] for a in qa["answers"]] if not qa.get("is_impossible") else []
    first = qa["answers"][0] if answers else None
    if name == "doqa-train.json.gz" and first:  # a long answer: a quote of any of its sentences finds it
        answers += [t for t in SENTENCE_END.split(first["text"]) if len(t.split()) >= 4 and t not in answers]
    starts: tuple[int, ...] = ()
    if first and first.get("answer_start_ambiguous"):
        starts = tuple(m.start() for m in re.finditer(re.escape(first["text"]), context))
    elif first:
        starts = (first["answer_start"],)
    history = tuple((t["question"], t["answer"]) for t in qa.get("history", ()))
    asked = respaced(qa["question"], context) if "paired_with" in qa else qa["question"]
    return Question(
        name,
        title,
        context,
        asked,
        starts,
        first["text"] if first else "",
        answers,
        split != "train",
        history,
        split == "evaluation",
    )


_OPENS_SENTENCE = re.compile(r"(?:^|[.!?][\"'”’)\]]*)\s*$")
_SPACED = [
    (re.compile(r'"\s+(.*?)\s+"'), r'"\1"'),
    (re.compile(r"\s+([?.,;:!%)]|'s\b|n't\b)"), r"\1"),
    (re.compile(r"([($])\s+"), r"\1"),
]


def respaced(question: str, context: str) -> str:
    """A question re-spaced from tokens and lower-cased ("what is \" american state \" ?") as it was written: words
    spaced as text is, each cased as its paragraph writes it where it never writes it in lower case, the first capitalised."""
    for pattern, spacing in _SPACED:
        question = pattern.sub(spacing, question)
    cased = {}
    for word in WORDS.finditer(context):
        if not _OPENS_SENTENCE.search(context, 0, word.start()):  # "The" opening a sentence says nothing of its case
            cased.setdefault(word.group().lower(), set()).add(word.group())
    question = WORDS.sub(
        lambda m: m.group() if m.group() in cased.get(m.group(), {m.group()}) else sorted(cased[m.group()])[0], question
    )
    return question[:1].upper() + question[1:]


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
        raise argparse.ArgumentTypeError(
            f"unknown group(s) {', '.join(sorted(unknown))}; choose from {', '.join(groups)}"
        )
    return mix
