"""Gold questions → metrics: how far the answers can be trusted, retriever by retriever.

Every question is asked through the public API (`QA.retrieve` for the top-10 ranking, `QA.ask`
for the answer); a question the pipeline refuses (a RagError) counts as a miss with its error
kept, never dropped.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .confidence import STATES
from .conversation import Said, Turn
from .errors import RagError
from .lexical import contains_answer, normalize_answer
from .pipeline import QA
from .store import IndexStore

RECALL_KS = (1, 5, 10)
_GOLD_KEYS = {"id", "question", "answers", "sources"}


@dataclass(frozen=True)
class GoldQuestion:
    id: str
    question: str
    answers: list[str]
    sources: list[str]
    type: str = "factoid"
    evidence: str = ""

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


def load_gold(path: str | Path) -> list[GoldQuestion]:
    """Read a gold JSONL file; a malformed line is an error naming the file and line."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise RagError(f"cannot read the gold file {path}: {exc}") from exc
    questions, seen = [], set()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            missing = _GOLD_KEYS - set(data)
            if missing:
                raise ValueError(f"missing {', '.join(sorted(missing))}")
            if data["answers"] and not data["sources"]:
                raise ValueError("an answerable question needs its sources")
            question = GoldQuestion(
                id=str(data["id"]),
                question=data["question"],
                answers=list(data["answers"]),
                sources=list(data["sources"]),
                type=data.get("type") or ("factoid" if data["answers"] else "unanswerable"),
                evidence=data.get("evidence") or "",
            )
        except (ValueError, TypeError) as exc:
            raise RagError(f"{path}, line {number}: not a gold question ({exc})") from exc
        if question.id in seen:
            raise RagError(f"{path}, line {number}: duplicate id {question.id!r}")
        seen.add(question.id)
        questions.append(question)
    if not questions:
        raise RagError(f"{path} holds no questions")
    return questions


def select(
    questions: list[GoldQuestion], limit: int | None = None, sample: int | None = None, seed: int = 0
) -> list[GoldQuestion]:
    """The first `limit` questions, or a reproducible random `sample` of them."""
    if sample is not None and sample < len(questions):
        questions = random.Random(seed).sample(questions, sample)
    return questions[:limit] if limit is not None else questions


# SQuAD's official scores, on answers normalised by `normalize_answer`.
def exact_match(prediction: str, answers: list[str]) -> float:
    return float(any(normalize_answer(prediction) == normalize_answer(a) for a in answers))


def f1_score(prediction: str, answers: list[str]) -> float:
    def f1(gold: str) -> float:
        predicted, wanted = normalize_answer(prediction).split(), normalize_answer(gold).split()
        common = sum((Counter(predicted) & Counter(wanted)).values())
        if not common:
            return 0.0
        precision, recall = common / len(predicted), common / len(wanted)
        return 2 * precision * recall / (precision + recall)

    return max((f1(a) for a in answers), default=0.0)


@dataclass
class QuestionResult:
    id: str
    type: str
    question: str
    expected: list[str]
    sources: list[str]
    answer: str = ""
    span: str | None = None
    abstained: bool = True
    state: str = "abstained"  # as the product would show it (Answer.state)
    confidence: float = 0.0
    cited: list[str] = field(default_factory=list)
    retrieved: list[str] = field(default_factory=list)
    answer_rank: int | None = None
    hit: bool = False
    em: float = 0.0
    f1: float = 0.0
    latency_ms: float = 0.0
    error: str | None = None
    quote_holds_answer: bool = False  # whether the most probable quote holds a gold answer, answered or not

    @property
    def answerable(self) -> bool:
        return bool(self.expected)

    @property
    def source_rank(self) -> int | None:
        """1-based rank of the first retrieved passage from a gold source."""
        return next((i + 1 for i, s in enumerate(self.retrieved) if s in self.sources), None)

    @property
    def correct(self) -> bool:
        """Answered with a gold answer, or rightly abstained on an unanswerable question."""
        return self.hit if self.answerable else self.abstained


class Evaluator:
    """Asks every gold question with each retriever and keeps what came back."""

    def __init__(self, qa: QA, k: int = 5, retrievers: tuple[str, ...] = ("hybrid", "dense", "bm25")):
        self.qa = qa
        self.k = k
        self.retrievers = retrievers

    def run(
        self, questions: list[GoldQuestion], on_question: Callable[[], None] | None = None
    ) -> dict[str, list[QuestionResult]]:
        results: dict[str, list[QuestionResult]] = {name: [] for name in self.retrievers}
        for question in questions:
            for name in self.retrievers:
                results[name].append(self._ask(question, name))
            if on_question:
                on_question()
        return results

    def _ask(self, gold: GoldQuestion, retriever: str) -> QuestionResult:
        result = QuestionResult(gold.id, gold.type, gold.question, gold.answers, gold.sources)
        try:
            self.qa.clear_cache()
            started = time.perf_counter()
            answer = self.qa.ask(gold.question, k=self.k, retriever=retriever, abstain=False)
            result.latency_ms = (time.perf_counter() - started) * 1000
            passages = self.qa.retrieve(gold.question, k=max(RECALL_KS), retriever=retriever)
        except RagError as exc:
            result.error, result.abstained, result.state = str(exc), False, "error"  # a miss, never a right abstention
            return result
        result.retrieved = [p.source for p in passages]
        result.answer_rank = next(
            (i + 1 for i, p in enumerate(passages) if contains_answer(p.text, gold.answers)), None
        )
        result.confidence = answer.confidence
        result.abstained = not answer.citations or self.qa.answer_builder.abstains(answer.confidence)
        result.state = "abstained" if result.abstained else answer.state
        result.quote_holds_answer = gold.answerable and contains_answer(answer.text, gold.answers)
        if not result.abstained:
            result.answer = answer.text
            result.span = answer.span.text if answer.span else None
            result.cited = list(
                dict.fromkeys(c.source for c in answer.citations if c.agrees)
            )  # those that state the answer given
            if gold.answerable:
                result.hit = result.quote_holds_answer
                scored = result.span if result.span else answer.text
                result.em, result.f1 = exact_match(scored, gold.answers), f1_score(scored, gold.answers)
        return result


CONVERSATION_KINDS = (
    "first",
    "follow_up",
    "self_contained",
    "unanswerable_follow_up",
    "unscored",
)  # unscored: asked, not scored


@dataclass(frozen=True)
class ConversationTurn:
    """One turn of a gold conversation: `standalone` is the question written out whole, by hand."""

    question: str
    standalone: str
    answers: list[str]
    sources: list[str]
    kind: str
    evidence: str = ""


def load_conversations(path: str | Path) -> list[tuple[str, list[ConversationTurn]]]:
    """Read a conversations JSONL file (one conversation a line: id and turns); a malformed line is an error
    naming the file and line."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise RagError(f"cannot read the conversations file {path}: {exc}") from exc
    conversations = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            turns = [
                ConversationTurn(
                    t["question"],
                    t["standalone"],
                    list(t["answers"]),
                    list(t["sources"]),
                    t["kind"],
                    t.get("evidence") or "",
                )
                for t in data["turns"]
            ]
            if not turns or any(t.kind not in CONVERSATION_KINDS for t in turns):
                raise ValueError(f"turns need a kind of {', '.join(CONVERSATION_KINDS)}")
            conversations.append((str(data["id"]), turns))
        except (ValueError, TypeError, KeyError) as exc:
            raise RagError(f"{path}, line {number}: not a conversation ({exc})") from exc
    if not conversations:
        raise RagError(f"{path} holds no conversations")
    return conversations


ASKED = ("with_history", "after_right_answers", "alone", "standalone")


def right_answer(turn: ConversationTurn, store: IndexStore) -> Turn:
    """A turn as if asked as its standalone version and answered right: its
    first answer that stands in its evidence sentence, quoted from the first of its sources whose text in the index
    holds that sentence (an unanswerable turn: refused). A history of these scores a follow-up as CoQA and QuAC do
    ("gold history"), so that what is left is the follow-up's own understanding, not a wrong earlier answer carried on."""
    if not turn.answers:
        return Turn(turn.standalone, None, None, asked=turn.standalone)
    found = next((m for a in turn.answers if (m := re.search(rf"(?<!\w){re.escape(a)}(?!\w)", turn.evidence))), None)
    if not turn.evidence or not found:
        raise RagError(
            f"{turn.question!r}: a right answer is quoted from the turn's evidence, the sentence that states "
            "one of its answers"
            + (", which it does not give" if not turn.evidence else f"; {turn.evidence!r} states none")
        )
    for source in turn.sources:
        try:
            start = store.document(source).text.find(turn.evidence)
        except KeyError:  # not in this index
            continue
        if start >= 0:
            at = start + found.start()  # whole words: "US" is not the start of "USA"
            return Turn(
                turn.standalone,
                found.group(),
                source,
                start,
                asked=turn.standalone,
                said=Said(source, at, start + found.end()),
                quoted=Said(source, start, start + len(turn.evidence)),
            )
    raise RagError(f"{turn.question!r}: none of its sources {', '.join(turn.sources)} in the index holds its evidence")


class ConversationEvaluator:
    """Asks every conversation's turns in order four ways: with the history of the answers given so far (as the chat
    asks them), after right answers (every earlier turn asked whole and answered right: see `right_answer`), alone (as if each were the
    first), and as their hand-written standalone versions (the ceiling). Every answer is scored like a gold question's."""

    def __init__(self, qa: QA, k: int = 5, ways: tuple[str, ...] = ASKED):
        self.qa = qa
        self.k = k
        self.ways = ways  # which of ASKED

    def run(self, conversations: list[tuple[str, list[ConversationTurn]]]) -> list[dict]:
        rows = []
        for conversation, turns in conversations:
            earlier: dict[str, list] = {"with_history": [], "after_right_answers": []}
            for number, turn in enumerate(turns):
                row = {
                    "conversation": conversation,
                    "turn": number,
                    "kind": turn.kind,
                    "question": turn.question,
                    "answerable": bool(turn.answers),
                }
                for asked in self.ways:
                    self.qa.clear_cache()
                    started = time.perf_counter()
                    answer = self.qa.ask(
                        turn.standalone if asked == "standalone" else turn.question,
                        k=self.k,
                        history=earlier.get(asked),
                    )
                    row[asked] = self._scored(answer, turn, time.perf_counter() - started)
                    if asked == "with_history":
                        earlier[asked].append(answer)
                if (
                    number < len(turns) - 1 and "after_right_answers" in self.ways
                ):  # what the next turns are asked after
                    earlier["after_right_answers"].append(right_answer(turn, self.qa.store))
                rows.append(row)
        return rows

    @staticmethod
    def _scored(answer, turn: ConversationTurn, seconds: float) -> dict:
        cited = list(dict.fromkeys(c.source for c in answer.citations if c.agrees))
        return {
            "answer": answer.text,
            "understood": answer.context.question if answer.context else None,
            "abstained": answer.abstained,
            "confidence": round(answer.confidence, 4),
            "hit": bool(turn.answers) and not answer.abstained and contains_answer(answer.text, turn.answers),
            "in_passages": bool(turn.answers) and any(contains_answer(p.text, turn.answers) for p in answer.passages),
            "cited": cited,
            "citation_precision": len(set(cited) & set(turn.sources)) / len(cited) if cited else None,
            "ms": round(1000 * seconds, 2),
        }


def conversation_summary(rows: list[dict]) -> dict:
    """Per kind of turn and way of asking: hit and citation precision (answerable kinds), or abstention."""
    summary = {}
    for kind in CONVERSATION_KINDS:
        inside = [r for r in rows if r["kind"] == kind]
        if not inside or kind == "unscored":
            continue
        summary[kind] = {"n": len(inside)}
        for asked in (a for a in ASKED if a in inside[0]):
            if kind == "unanswerable_follow_up":
                summary[kind][asked] = {"abstain": _mean(r[asked]["abstained"] for r in inside)}
            else:
                answerable = [r[asked] for r in inside if r["answerable"]]
                summary[kind][asked] = {
                    "hit": _mean(s["hit"] for s in answerable),
                    "answer_in_passages": _mean(s["in_passages"] for s in answerable),
                    "citation_precision": _mean(
                        s["citation_precision"] for s in answerable if s["citation_precision"] is not None
                    ),
                    "abstain": _mean(s["abstained"] for s in answerable),
                }
    ms = {asked: [r[asked]["ms"] for r in rows] for asked in ("with_history", "alone") if asked in rows[0]}
    summary["ask_ms_p50"] = {asked: round(float(np.percentile(v, 50)), 2) for asked, v in ms.items()}
    return summary


def reliability(confidence: list[float], right: list[bool], bins: int = 10) -> list[dict]:
    """The reliability diagram's points: per confidence bin, how many, their mean confidence and share right."""
    confidence, right = np.asarray(confidence, dtype=float), np.asarray(right, dtype=bool)
    rows = []
    for low, high in zip(np.linspace(0, 1, bins + 1)[:-1], np.linspace(0, 1, bins + 1)[1:]):
        inside = (confidence >= low) & ((confidence < high) | (high == 1))
        if inside.any():
            rows.append(
                {
                    "bin": [round(float(low), 2), round(float(high), 2)],
                    "n": int(inside.sum()),
                    "confidence": round(float(confidence[inside].mean()), 4),
                    "right": round(float(right[inside].mean()), 4),
                }
            )
    return rows


def risk_coverage(confidence, right, points: int = 20) -> list[list[float]]:
    """The risk–coverage curve of selective answering: answering only the most confident share c of the
    questions, the share of those answers that are wrong (an answer to an unanswerable question is wrong)."""
    order = np.argsort(-np.asarray(confidence, dtype=float), kind="stable")
    wrong = (
        np.cumsum(~np.asarray(right, dtype=bool)[order]) / np.arange(1, len(order) + 1) if len(order) else np.zeros(0)
    )
    picks = sorted({max(1, round(len(order) * c)) for c in np.linspace(0, 1, points + 1)[1:]}) if len(order) else []
    return [[round(n / len(order), 4), round(float(wrong[n - 1]), 4)] for n in picks]


def aurc(confidence, right) -> float:
    """Area under the risk–coverage curve (lower is better): the mean risk over every coverage 1/n .. n/n."""
    order = np.argsort(-np.asarray(confidence, dtype=float), kind="stable")
    if not len(order):
        return 0.0
    wrong = np.cumsum(~np.asarray(right, dtype=bool)[order]) / np.arange(1, len(order) + 1)
    return round(float(wrong.mean()), 4)


def _mean(values) -> float:
    values = list(values)
    return round(float(np.mean(values)), 4) if values else 0.0


def recall_at(results: list[QuestionResult], k: int, rank: str = "source_rank") -> float:
    """Share of answerable results whose `rank` (source_rank or answer_rank) is at most k."""
    answerable = [r for r in results if r.answerable]
    return _mean((getattr(r, rank) or k + 1) <= k for r in answerable)


def _answer_metrics(results: list[QuestionResult]) -> dict:
    """Answer scores; on unanswerable questions a right abstention scores 1 (the SQuAD 2.0 convention)."""
    return {
        "n": len(results),
        "hit": _mean(r.correct for r in results),
        "em": _mean(r.em if r.answerable else float(r.abstained) for r in results),
        "f1": _mean(r.f1 if r.answerable else float(r.abstained) for r in results),
    }


def abstain_recall_at(results: list[QuestionResult], false_abstain: float) -> float | None:
    """Share of the unanswerable questions refused by the threshold that refuses `false_abstain` of the answerable
    ones: how well confidence tells them apart, whatever threshold is shipped. None without both kinds."""
    answerable = [r.confidence for r in results if r.answerable and r.error is None]
    unanswerable = [r.confidence for r in results if not r.answerable and r.error is None]
    if not answerable or not unanswerable:
        return None
    threshold = float(np.quantile(answerable, false_abstain))
    return _mean(c < threshold for c in unanswerable)


def states(results: list[QuestionResult]) -> dict:
    """Each state's share of the questions and how often it is right: answered and tentative answers hold a gold
    answer; an abstention is right on an unanswerable question."""
    return {
        state: {
            "share": _mean(r.state == state for r in results),
            "right": _mean(r.correct for r in results if r.state == state),
        }
        for state in STATES
    }


def summarize(results: list[QuestionResult]) -> dict:
    """The metrics of one retriever's run (see eval/README.md for definitions)."""
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    answered = [r for r in results if not r.abstained]
    abstained = [r for r in results if r.abstained]
    retrieval = {f"recall@{k}": recall_at(results, k) for k in RECALL_KS}
    retrieval["mrr"] = _mean(1 / r.source_rank if r.source_rank else 0.0 for r in answerable)
    retrieval.update({f"answer_in_top{k}": recall_at(results, k, "answer_rank") for k in RECALL_KS})
    latencies = [r.latency_ms for r in results if r.error is None]
    by_type = defaultdict(list)
    for r in results:
        by_type[r.type].append(r)
    return {
        "n": len(results),
        "n_answerable": len(answerable),
        "errors": sum(r.error is not None for r in results),
        "retrieval": retrieval,
        "answer": {
            "hit": _mean(r.hit for r in answerable),
            "em": _mean(r.em for r in answerable),
            "f1": _mean(r.f1 for r in answerable),
        },
        "citation": {
            "precision": _mean(len(set(r.cited) & set(r.sources)) / len(r.cited) for r in answered if r.cited),
            "recall": _mean(len(set(r.cited) & set(r.sources)) / len(r.sources) for r in answerable),
        },
        "abstain": {
            "precision": _mean(not r.answerable for r in abstained),
            "recall": _mean(r.abstained for r in unanswerable),
            "false_abstain_rate": _mean(r.abstained for r in answerable),
            **{f"recall_at_false_abstain_{rate:.2f}": abstain_recall_at(results, rate) for rate in (0.05, 0.10)},
        },
        "states": states(results),
        "selective": {
            "aurc": aurc([r.confidence for r in results], [r.quote_holds_answer for r in results]),
            "risk_coverage": risk_coverage([r.confidence for r in results], [r.quote_holds_answer for r in results]),
        },
        "latency_ms": {
            "p50": round(float(np.percentile(latencies, 50)), 2) if latencies else 0.0,
            "p95": round(float(np.percentile(latencies, 95)), 2) if latencies else 0.0,
        },
        "by_type": {name: _answer_metrics(group) for name, group in sorted(by_type.items())},
    }


def evaluation_json(results: dict[str, list[QuestionResult]], metrics: dict[str, dict], k: int, meta: dict) -> dict:
    """The JSON written by `rag eval`: the first retriever's metrics at top level, every retriever under `retrievers`."""
    main = next(iter(results))
    return {
        **metrics[main],
        "retriever": main,
        "k": k,
        **meta,
        "retrievers": metrics,
        "questions": {name: [asdict(r) for r in rs] for name, rs in results.items()},
    }
