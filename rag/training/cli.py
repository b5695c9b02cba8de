"""Train the extractive reader shipped in rag/models/reader (its README.md is the model card).

    python -m rag.training train      # fine-tune all-MiniLM-L6-v2 on ../shared/qa-train; resumes
    python -m rag.training calibrate  # fit the confidence model and its thresholds on held-out questions

`train` writes the reader in its shipped format every --save-every steps and continues from there when run
again, on this machine or another: the shipped weights are the checkpoint. Nothing here reads ../shared/squad
or eval/gold.jsonl: they measure the reader.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
from pathlib import Path

from rag.files import cache_dir
from rag.reader import DEFAULT_READER

from .batching import TRAIN_MAX_LENGTH, TRAIN_STRIDE
from .calibration import CalibrationSettings, calibrate
from .data import SHARED, parse_mix
from .loop import TrainingSettings, torch_threads_default, train
from .no_answer import RECIPES


def parser() -> argparse.ArgumentParser:
    """The command line: the step, then the options of both steps."""
    parser = argparse.ArgumentParser(
        prog="python -m rag.training", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("step", choices=["train", "calibrate"])
    parser.add_argument(
        "--work",
        default=str(cache_dir("reader-training")),
        help="intermediate files, kept out of the repository (default: %(default)s)",
    )
    parser.add_argument("--out", default=str(DEFAULT_READER), help="the reader folder to write (and resume from)")
    parser.add_argument("--data", default=str(SHARED), help="the qa-train folder (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=13)
    _plan_options(parser)
    _run_options(parser)
    _calibration_options(parser)
    return parser


def _plan_options(parser: argparse.ArgumentParser) -> None:
    """What a plan trains on and how (recorded in training.json: a run resumes only the same plan)."""
    parser.add_argument(
        "--questions", type=int, default=0, help="training questions taken after the held-out split (0: all)"
    )
    parser.add_argument(
        "--mix",
        type=parse_mix,
        default=None,
        help="questions taken from each group, e.g. replay=16000,squad2-unanswerable=8000,coqa-cnn=8000,"
        "coqa-train=4000,doqa-train=3000 (default: every training question)",
    )
    parser.add_argument(
        "--null-share", type=float, default=0.3, help="share of answerable questions made into no-answer groups"
    )
    parser.add_argument(
        "--recipes",
        type=lambda s: [r for r in s.split(",") if r],
        default=list(RECIPES),
        help=f"no-answer recipes, comma-separated, of {', '.join(RECIPES)} (default: all)",
    )
    parser.add_argument(
        "--follow-share",
        type=float,
        default=0.0,
        help="share of groups whose question is asked as a follow-up, with an earlier turn's words in brackets",
    )
    parser.add_argument(
        "--follow-made",
        type=float,
        default=0.0,
        help="share of those whose question is first cut down to a follow-up that needs the earlier turn "
        "(a pronoun for a name it shares, 'it' for a phrase, 'When?'), as people ask one",
    )
    parser.add_argument("--batch-size", type=int, default=16, help="groups (two windows each) per step")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--max-length", type=int, default=TRAIN_MAX_LENGTH, help="training window in word pieces")
    parser.add_argument("--stride", type=int, default=TRAIN_STRIDE)
    parser.add_argument("--init", default=None, help="the weights a fresh run starts from (default: the base model)")


def _run_options(parser: argparse.ArgumentParser) -> None:
    """How this run of the plan goes."""
    parser.add_argument(
        "--precision",
        choices=["auto", "fp32", "bf16"],
        default="auto",
        help="auto: bf16 autocast where the CPU has native bf16 (or on a GPU), else fp32",
    )
    parser.add_argument("--threads", type=int, default=torch_threads_default())
    parser.add_argument("--save-every", type=int, default=100)
    parser.add_argument(
        "--max-steps", type=int, default=None, help="stop after this many steps (the next run continues)"
    )
    parser.add_argument("--restart", action="store_true", help="train afresh, replacing the reader in --out")


def _calibration_options(parser: argparse.ArgumentParser) -> None:
    """What `calibrate` fits on and the thresholds' targets."""
    parser.add_argument(
        "--false-abstain", type=float, default=0.05, help="share of held-out answerable questions refused"
    )
    parser.add_argument(
        "--sure-precision", type=float, default=0.95, help="share of held-out answers right from where answers are sure"
    )
    parser.add_argument(
        "--calibration-mix",
        type=parse_mix,
        help="held-out questions asked to fit confidence, from each group",
        default=parse_mix("replay=2000,squad2-unanswerable=500,coqa-cnn=500,coqa-train=300,doqa-train=150"),
    )
    parser.add_argument(
        "--drop-share",
        type=float,
        default=0.15,
        help="share of held-out paragraphs left out of the calibration corpus (their questions become unanswerable)",
    )
    parser.add_argument(
        "--removed-share",
        type=float,
        default=0.15,
        help="share of held-out paragraphs cut of one question's answer sentence (that question becomes unanswerable)",
    )
    parser.add_argument(
        "--swap-share",
        type=float,
        default=0.15,
        help="share of held-out answerable questions asked again of another name of their article (unanswerable)",
    )


def settings_of(args: argparse.Namespace, kind: type):
    """The settings dataclass `kind` from the parsed options of the same names."""
    return kind(**{f.name: getattr(args, f.name) for f in dataclasses.fields(kind)})


def main(argv: list[str] | None = None) -> None:
    command = parser()
    args = command.parse_args(argv)
    if unknown := set(args.recipes) - set(RECIPES):
        command.error(f"unknown recipe(s) {', '.join(sorted(unknown))}; choose from {', '.join(RECIPES)}")
    args.data, args.out, args.work = Path(args.data), Path(args.out), Path(args.work)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.step == "train":
        train(settings_of(args, TrainingSettings))
    else:
        calibrate(settings_of(args, CalibrationSettings))
