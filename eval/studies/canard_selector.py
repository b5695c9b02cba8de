"""A small model of which words of the history a follow-up needs, learned from CANARD's hand-written rewrites,
against the rules of rag/conversation.py: a logistic model over each history word (how recent, how often, a name
or not, what the follow-up itself says), fit on CANARD train, measured on CANARD dev by how well the words it
would carry match the words the rewrite adds; `CanardResolver` reads follow-ups with them for eval/studies/followup_rules.py.

    python -m eval.studies.canard_selector      # fit, then words-needed precision / recall / F1 beside the rules' carried words
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import re

import numpy as np

from eval import SHARED
from rag.conversation import MAX_CARRIED_WORDS, Context, FollowUpResolver, Turn, with_carried

CANARD = SHARED / "qa-train" / "canard.json.gz"
_WORD = re.compile(r"\w+(?:[.'’-]\w+)*")
_POINTS = re.compile(r"\b(he|she|they|him|her|his|hers|their|them|it|its|that|this|there|else|other)\b", re.IGNORECASE)


class Selector:
    """Which of the history's content words a follow-up needs: a logistic model over each word's features."""

    FEATURES = ("last", "recency", "count", "first", "name", "points", "short", "length")

    def __init__(self, weights: np.ndarray | None = None, stopwords: frozenset[str] | None = None):
        self.weights = weights
        self.stopwords = stopwords or frozenset(FollowUpResolver()._stopwords)

    def candidates(self, question: str, history: list[str]) -> dict[str, np.ndarray]:
        """Each content word of `history` (its turns' texts, oldest first) that `question` does not say, with its features."""
        said = {w.lower() for w in _WORD.findall(question)}
        own = [w for w in said if w not in self.stopwords]
        found: dict[str, dict] = {}
        for back, text in enumerate(reversed(history), 1):
            for at, word in enumerate(_WORD.findall(text)):
                key = word.lower()
                if key in self.stopwords or key in said or key.isdigit() and len(key) < 3:
                    continue
                f = found.setdefault(key, {"back": back, "count": 0, "name": False})
                f["count"] += 1
                f["name"] |= word[0].isupper() and at > 0
        first = {w.lower() for w in _WORD.findall(history[0])} if history else set()
        return {
            key: np.array(
                [
                    f["back"] == 1,
                    1 / f["back"],
                    math.log1p(f["count"]),
                    key in first,
                    f["name"],
                    bool(_POINTS.search(question)),
                    len(own) <= 2,
                    min(len(key), 12) / 12,
                ],
                float,
            )
            for key, f in found.items()
        }

    def needed(self, question: str, history: list[str], at_least: float = 0.3) -> list[str]:
        """The words the model carries, most probable first, MAX_CARRIED_WORDS at most (`at_least`: the best word F1 on a
        fifth of CANARD train held out of the fit)."""
        found = self.candidates(question, history)
        scored = [(w, self._p(x)) for w, x in found.items()]
        return [w for w, p in sorted(scored, key=lambda s: -s[1]) if p >= at_least][:MAX_CARRIED_WORDS]

    def _p(self, x: np.ndarray) -> float:
        z = self.weights[0] + float(x @ self.weights[1:])
        return 1 / (1 + math.exp(-z))

    def fit(self, examples: list[tuple[str, list[str], str]]) -> Selector:
        from sklearn.linear_model import LogisticRegression

        rows, labels = [], []
        for question, history, rewrite in examples:
            wanted = {w.lower() for w in _WORD.findall(rewrite)}
            for word, x in self.candidates(question, history).items():
                rows.append(x)
                labels.append(word in wanted)
        model = LogisticRegression(max_iter=1000).fit(np.array(rows), np.array(labels))
        self.weights = np.concatenate([model.intercept_, model.coef_[0]])
        return self


def canard() -> tuple[list, list]:
    """CANARD train as (question, earlier rewrites, rewrite); dev as (question, earlier turns as Turn, rewrite)."""
    data = json.load(gzip.open(CANARD, "rt"))
    train = [(x["question"], [e["rewrite"] for e in x["earlier"]], x["rewrite"]) for x in data["train"] if x["earlier"]]
    dev = [
        (
            x["question"],
            [Turn(h["question"], h["answer"], None, asked=h["question"]) for h in x["history"]],
            x["rewrite"],
        )
        for x in data["dev"]
        if x["history"]
    ]
    return train, dev


def scores(carried: list[list[str]], dev: list) -> dict:
    """Word precision, recall and F1 of the words carried against those each rewrite adds to its question."""
    right = found = wanted_n = 0
    for words, (question, _, rewrite) in zip(carried, dev, strict=True):
        asked = {w.lower() for w in _WORD.findall(question)}
        wanted = {w.lower() for w in _WORD.findall(rewrite)} - asked - Selector().stopwords
        got = {w.lower() for w in words}
        right, found, wanted_n = right + len(got & wanted), found + len(got), wanted_n + len(wanted)
    p, r = right / max(1, found), right / max(1, wanted_n)
    return {"precision": round(p, 3), "recall": round(r, 3), "f1": round(2 * p * r / max(1e-9, p + r), 3)}


class CanardResolver(FollowUpResolver):
    """Every question after the first read with the words the selector says it needs, in brackets; nothing else."""

    def __init__(self, selector: Selector):
        super().__init__()
        self.selector = selector

    def run(self, question: str, history: list[Turn]) -> Context | None:
        if not history:
            return None
        texts = [f"{t.resolved} {t.answer or ''}" for t in history]
        carried = " ".join(self.selector.needed(question, texts))
        last = len(history) - 1
        return (
            Context(
                with_carried(question, carried),
                history[last].resolved,
                last,
                "selected",
                history[last].source,
                history[last].offset,
                carried,
            )
            if carried
            else None
        )


def fitted() -> Selector:
    """A selector fit on all of CANARD train."""
    return Selector().fit(canard()[0])


def main() -> None:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    train, dev = canard()
    selector = Selector().fit(train)
    rules = FollowUpResolver()
    by_rules = [(c.carried.split() if (c := rules.run(q, turns)) else []) for q, turns, _ in dev]
    by_model = [selector.needed(q, [f"{t.question} {t.answer}" for t in turns]) for q, turns, _ in dev]
    print(f"CANARD dev, {len(dev)} follow-ups: words the rewrite adds, against the words carried")
    print("rules:   ", scores(by_rules, dev))
    print(
        "selector:",
        scores(by_model, dev),
        dict(zip(("intercept", *Selector.FEATURES), np.round(selector.weights, 2), strict=True)),
    )


if __name__ == "__main__":
    main()
