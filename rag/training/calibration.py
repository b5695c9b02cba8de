"""The confidence model's fit: held-out questions asked through the whole pipeline over a corpus of their articles
with hard "no answer" cases made in it; every candidate span a row of signals."""

from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from rag.confidence import FEATURES, STATES, Confidence
from rag.files import cache_dir, write_atomically
from rag.reader import DEFAULT_READER

from .card import write_card
from .data import SHARED, Question, load_questions, mixed, parse_mix
from .no_answer import NegativeFinder, without_answer

log = logging.getLogger(__name__)


@dataclass
class CalibrationSettings:
    """What `calibrate` is asked: the held-out questions to fit on, the hard cases made among them, and the two
    thresholds' targets."""

    data: Path = SHARED
    out: Path = DEFAULT_READER
    work: Path = field(default_factory=lambda: cache_dir("reader-training"))
    seed: int = 13
    calibration_mix: dict[str, int] = field(
        default_factory=lambda: parse_mix(
            "replay=2000,squad2-unanswerable=500,coqa-cnn=500,coqa-train=300,doqa-train=150"
        )
    )
    drop_share: float = 0.15  # held-out paragraphs left out of the corpus (their questions become unanswerable)
    removed_share: float = 0.15  # held-out paragraphs cut of one question's answer sentence
    swap_share: float = 0.15  # held-out answerable questions asked again of another name of their article
    false_abstain: float = 0.05  # share of held-out answerable questions refused
    sure_precision: float = 0.95  # share of held-out answers right from where answers are sure

    def __post_init__(self):
        self.data, self.out, self.work = Path(self.data), Path(self.out), Path(self.work)


def held_out_squad(questions: list[Question], seed: int, shares: dict[str, float]) -> tuple[dict, dict[str, str]]:
    """The held-out questions as one SQuAD v2 JSON (an article per source title) with the product's hard
    "no answer" cases made in it, and each question's kind. Of the answerable questions, `shares["dropped"]`
    lose their paragraph (left out of the article), `shares["removed"]` lose the sentence that answers them
    (their paragraph is cut; its other questions stay answerable where their answer is left), and
    `shares["swapped"]` are asked again of another name of their article, unanswerable there."""
    rng = random.Random(seed)
    negatives = NegativeFinder(questions, seed)
    dropped, cut = _dropped_and_cut(questions, rng, shares)
    kinds: dict[str, str] = {}
    articles: dict[tuple[str, str], dict[str, list]] = {}
    owner = {
        q.context: q.source for q in questions if q.group == "replay"
    }  # SQuAD 2.0's unanswerable join their paragraph
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
            paragraphs.setdefault(q.context, []).append(
                {
                    "id": qid,
                    "question": question,
                    "is_impossible": at < 0,
                    "answers": [{"text": q.answer_text, "answer_start": at}, *alternatives] if at >= 0 else [],
                }
            )
    data = {
        "version": "v2.0",
        "data": [
            {
                "title": f"{source.split('.')[0]} {title}"[:80],
                "paragraphs": [
                    {"context": "" if c in dropped else cut.get(c, c), "qas": qas} for c, qas in paragraphs.items()
                ],
            }
            for (source, title), paragraphs in sorted(articles.items())
        ],
    }
    return data, kinds


def _dropped_and_cut(
    questions: list[Question], rng: random.Random, shares: dict[str, float]
) -> tuple[set[str], dict[str, str]]:
    """The paragraphs left out of the corpus, and those cut of one of their answerable questions' answer sentence."""
    by_context: dict[str, list[Question]] = {}
    for q in questions:
        by_context.setdefault(q.context, []).append(q)
    dropped, cut = set(), {}
    for context, asked in sorted(by_context.items()):
        roll = rng.random()
        if roll < shares["dropped"]:
            dropped.add(context)
        elif roll < shares["dropped"] + shares["removed"] and (answerable := [q for q in asked if q.answerable]):
            if text := without_answer(rng.choice(answerable)):
                cut[context] = text
    return dropped, cut


def calibrate(s: CalibrationSettings) -> None:
    """Fit the confidence model (rag/confidence.py) on held-out questions asked through the whole pipeline
    (hybrid retrieval, k = 5, the reader as it runs here); every candidate span is a row of signals, labelled by
    whether its sentence holds a gold answer. Answers are refused below where `false_abstain` of the answerable
    questions are, and sure from where `sure_precision` of the answers are right."""
    from sklearn.linear_model import LogisticRegression

    s.work.mkdir(parents=True, exist_ok=True)
    rows, labels, asked = _candidates(s)
    x, y = np.array(rows), np.array(labels)
    mean, scale = x.mean(axis=0), x.std(axis=0).clip(1e-6)
    fit = LogisticRegression(C=1.0, max_iter=1000).fit((x - mean) / scale, y)
    model = Confidence(
        weights=dict(zip(FEATURES, map(float, fit.coef_[0]), strict=True)),
        intercept=float(fit.intercept_[0]),
        mean=dict(zip(FEATURES, map(float, mean), strict=True)),
        scale=dict(zip(FEATURES, map(float, scale), strict=True)),
    )
    probability = fit.predict_proba((x - mean) / scale)[:, 1]
    top = [max(r, key=lambda i: probability[i]) if len(r) else None for r, _, _ in asked]
    confidence = np.array([probability[i] if i is not None else 0.0 for i in top])
    right = np.array([bool(y[i]) if i is not None else False for i in top])
    answerable = np.array([a for _, a, _ in asked])
    threshold = float(np.quantile(confidence[answerable], s.false_abstain))
    answered_from = max(
        threshold, sure_from(confidence, right, s.sure_precision)
    )  # never under the abstention threshold
    model = replace(model, threshold=round(threshold, 4), answered=round(answered_from, 4))
    model.save(s.out / "calibration.json")
    report = _report(s.out, model, threshold, confidence, right, answerable, [k for _, _, k in asked], len(rows))
    write_atomically(s.out / "calibration-report.json", json.dumps(report, indent=2) + "\n")
    log.info(
        "calibration: %s",
        json.dumps({k: v for k, v in report.items() if k not in ("reliability", "risk_coverage", "by_kind")}),
    )
    write_card(s.out)


def _candidates(s: CalibrationSettings) -> tuple[list[list[float]], list[bool], list[tuple[range, bool, str]]]:
    """Every candidate span of every held-out question as the pipeline judges it with an uninformed confidence: its
    signals, whether its quote holds a gold answer, and per question (its rows, answerable, kind)."""
    from tqdm import tqdm

    import rag
    from rag.evaluation import load_gold
    from rag.lexical import contains_answer
    from rag.reader import Reader
    from rag.squad import import_squad

    squad, kinds = held_out_squad(
        held_out_questions(s), s.seed, {"dropped": s.drop_share, "removed": s.removed_share, "swapped": s.swap_share}
    )
    squad_file = s.work / "held-out.json"
    write_atomically(squad_file, json.dumps(squad))
    articles, gold_file, _, _ = import_squad(squad_file, s.work / "held-out")
    neutral = Reader(s.out, confidence=Confidence())  # uninformed: the signals are what is fit
    qa = rag.build(
        articles, index_dir=s.work / "held-out-index", reader=neutral, show_progress=True
    )  # a rerun embeds nothing
    rows, labels, asked = [], [], []
    for gold in tqdm(load_gold(gold_file), desc="held-out questions", mininterval=10):
        judged = qa.answer_builder.judge(*qa.retrieval(gold.question, k=5))
        first = len(rows)
        for candidate in judged:
            rows.append([candidate.features[name] for name in FEATURES])
            labels.append(bool(gold.answers) and contains_answer(candidate.quote, gold.answers))
        asked.append((range(first, len(rows)), bool(gold.answers), kinds[gold.id]))
    return rows, labels, asked


def held_out_questions(s: CalibrationSettings) -> list[Question]:
    """The calibration half of the held-out questions (never the evaluation half), each read as the product reads it
    (a conversation's turn as a follow-up), no longer than the product takes, `s.calibration_mix` of them."""
    from rag.pipeline import MAX_QUESTION_CHARS

    questions = load_questions(s.data)
    negatives = NegativeFinder(questions, s.seed)
    held = [replace(q, question=negatives.read(q), history=()) for q in questions if q.held_out and not q.evaluated]
    held = [q for q in held if len(q.question) <= MAX_QUESTION_CHARS]  # the product refuses longer ones
    random.Random(s.seed).shuffle(held)
    return mixed(held, s.calibration_mix)


def _report(
    out: Path,
    model: Confidence,
    threshold: float,
    confidence: np.ndarray,
    right: np.ndarray,
    answerable: np.ndarray,
    kinds: list[str],
    candidates: int,
) -> dict:
    """calibration-report.json: how the fit model does on the questions it was fit on, overall and by kind
    (refused: under the unrounded `threshold`)."""
    from rag.evaluation import aurc, reliability, risk_coverage

    refused, sure = confidence < threshold, confidence >= model.answered
    by_kind = {}
    for kind in sorted(set(kinds)):
        inside = np.array([k == kind for k in kinds])
        by_kind[kind] = {
            "questions": int(inside.sum()),
            "refused": round(float(refused[inside].mean()), 4),
            "right_at_top": round(float(right[inside].mean()), 4),
        }
    return {
        "weights_step": json.loads((out / "training.json").read_text()).get("step"),
        "questions": len(kinds),
        "answerable": int(answerable.sum()),
        "candidates": candidates,
        "right_at_top": round(float(right.mean()), 4),
        "false_abstain_rate": round(float(refused[answerable].mean()), 4),
        "abstain_recall": round(float(refused[~answerable].mean()), 4) if (~answerable).any() else None,
        "precision_when_answering": round(float(right[~refused].mean()), 4),
        "answered_from": model.answered,
        "answered_precision": round(float(right[sure].mean()), 4) if sure.any() else None,
        "states": {state: round(float(np.mean([model.state(c) == state for c in confidence])), 4) for state in STATES},
        "brier": round(float(np.mean((confidence - right) ** 2)), 4),
        "aurc": aurc(confidence, right),
        "risk_coverage": risk_coverage(confidence, right),
        "weights": model.weights,
        "threshold": model.threshold,
        "by_kind": by_kind,
        "reliability": reliability(confidence, right),
    }


def sure_from(confidence: np.ndarray, right: np.ndarray, precision: float, least: int = 30) -> float:
    """The lowest confidence from which at least `precision` of the top answers are right (among `least` or more)."""
    order = np.argsort(-confidence)
    share = np.cumsum(right[order]) / np.arange(1, len(order) + 1)
    sure = [i for i in range(least - 1, len(order)) if share[i] >= precision]
    return float(confidence[order[sure[-1]]]) if sure else 1.0
