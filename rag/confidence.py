"""What the reader found, with what retrieval found → the probability that a candidate quote holds the answer.

The reader's own odds of a span against "no answer" were one number, and on news it refused answerable
questions and let most unanswerable ones through. A candidate (the reader's best span in one passage)
is judged on several signals instead: how probable the span is and how probable "no answer" is, its
margin over the best other answer, how many passages and articles agree on it, where retrieval ranked
its passage, and how much of the question its sentence covers. A logistic model over them, fit on
held-out questions that include hard "no answer" cases and text unlike Wikipedia
(`python -m rag.training calibrate`), gives the probability. Two thresholds from the same fit split answers
into three states: *answered* (held-out precision at least 0.95 from `answered` up), *tentative* (quoted,
but it may not answer) and *abstained* (below `threshold`, set at a stated false-abstain rate). Every
passage gets the same kind of probability as the answer.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .files import write_atomically
from .lexical import normalize_answer

FEATURES = (
    "span_logp",
    "no_answer_logp",
    "evidence",
    "margin",
    "agreement",
    "articles",
    "reader_rank",
    "retrieval_rank",
    "retrieval_share",
    "coverage",
    "kind",
    "echo",
    "unmentioned",
)
STATES = ("answered", "tentative", "abstained")
_EPS = 1e-9
_MAX_MARGIN = 12.0


@dataclass(frozen=True)
class Candidate:
    """One passage's best span, as the reader and retrieval saw it: `probability` is the reader's (shared over
    the question's passages), `rank` its passage's place in the retriever's order (0 = first), `score_share`
    its retrieval score over the first passage's, `coverage` the share of the question's terms its sentence holds;
    `kind` whether the span is the kind of answer asked for (rag/answer_kinds.py: 1, -1, 0 where none is asked),
    `echo` the share of the span's terms the question says already, `unmentioned` the share of the question's
    names its article never mentions."""

    answer: str
    source: str
    probability: float
    rank: int
    score_share: float
    coverage: float
    kind: float = 0.0
    echo: float = 0.0
    unmentioned: float = 0.0


def features(candidates: list[Candidate], no_answer: float) -> list[dict[str, float]]:
    """The signals of every candidate of one question, in the order given (the reader's, most probable first)."""
    keys = [normalize_answer(c.answer) for c in candidates]
    total = sum(c.probability for c in candidates) + _EPS
    rows = []
    for i, (candidate, key) in enumerate(zip(candidates, keys)):
        same = [c for j, (c, k) in enumerate(zip(candidates, keys)) if j == i or _agree(k, key)]
        others = [c.probability for j, (c, k) in enumerate(zip(candidates, keys)) if j != i and not _agree(k, key)]
        span_logp, no_answer_logp = math.log(candidate.probability + _EPS), math.log(no_answer + _EPS)
        rows.append(
            {
                "span_logp": span_logp,
                "no_answer_logp": no_answer_logp,
                "evidence": span_logp - no_answer_logp,
                "margin": min(_MAX_MARGIN, span_logp - math.log(max(others, default=0.0) + _EPS)),
                "agreement": sum(c.probability for c in same) / total,
                "articles": math.log(len({c.source for c in same})),
                "reader_rank": 1.0 / (1 + i),
                "retrieval_rank": 1.0 / (1 + candidate.rank),
                "retrieval_share": candidate.score_share,
                "coverage": candidate.coverage,
                "kind": candidate.kind,
                "echo": candidate.echo,
                "unmentioned": candidate.unmentioned,
            }
        )
    return rows


def _agree(a: str, b: str) -> bool:
    """The same answer: one normalised answer stands in the other as whole words (contains_answer's test as SQuAD
    normalises, on answers `features` has normalised once already)."""
    return bool(a and b) and (f" {a} " in f" {b} " or f" {b} " in f" {a} ")


@dataclass(frozen=True)
class Confidence:
    """A logistic model over FEATURES (standardised by `mean` and `scale`), the threshold below which the answer
    builder abstains and the one from which an answer is sure (`answered`). The defaults, before a fit, give an
    uninformed 0.5, never abstain and never call an answer sure."""

    weights: dict[str, float] = field(default_factory=dict)
    intercept: float = 0.0
    mean: dict[str, float] = field(default_factory=dict)
    scale: dict[str, float] = field(default_factory=dict)
    threshold: float = 0.0
    answered: float = 1.0

    def state(self, probability: float) -> str:
        """ "answered", "tentative" or "abstained" for an answer this probable."""
        return (
            "abstained" if probability < self.threshold else "answered" if probability >= self.answered else "tentative"
        )

    def probability(self, row: dict[str, float]) -> float:
        z = self.intercept + sum(
            w * (row[name] - self.mean.get(name, 0.0)) / self.scale.get(name, 1.0) for name, w in self.weights.items()
        )
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    @classmethod
    def load(cls, path: str | Path) -> Confidence:
        """Read calibration.json; one of another format (an older reader's) or naming unknown signals is refused."""
        data = json.loads(Path(path).read_text())
        keys = {"weights", "intercept", "mean", "scale", "threshold", "answered"}
        if not isinstance(data, dict) or "weights" not in data or set(data) - keys:
            raise ValueError(
                f"{path} is not a confidence model of this version (keys {sorted(data) if isinstance(data, dict) else data!r})"
            )
        if unknown := set(data["weights"]) - set(FEATURES):
            raise ValueError(f"unknown confidence features {sorted(unknown)}")
        return cls(**data)

    def save(self, path: str | Path) -> None:
        """Written aside and renamed into place: a reader loading it meanwhile sees the old file or the new one."""
        write_atomically(path, json.dumps(asdict(self), indent=2) + "\n")
