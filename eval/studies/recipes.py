"""What each hard "no answer" recipe adds: one short run from the base model per set of recipes (the same
questions, order and settings otherwise), then every run's reader alone on held-out qa-train questions, given one passage each: the answer's
paragraph, or a hard case of each kind (the paragraph without the answer's sentence, the question asked
of another name of the article, another paragraph of the article). A run refuses where "no answer" is
more probable than its best span by a margin, set per run so that 5 % of the answerable questions are
refused; the table gives the share of each hard kind refused there and the answerable F1.

    python -m eval.studies.recipes --questions 8000 --json eval/reports/recipes.json

Runs write under --work (kept out of the repository). The CPU's flags are printed: speed varies by CPU.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
from pathlib import Path

import numpy as np

from rag import training
from rag.evaluation import f1_score
from rag.files import cache_dir
from rag.reader import Reader, cpu_flags

VARIANTS = {
    "none": "",
    "other": "other",
    "other+removed": "other,removed",
    "other+swapped": "other,swapped",
    "all": "other,removed,swapped",
}
FALSE_ABSTAIN = 0.05


def held_out_cases(seed: int, n: int) -> dict[str, list[tuple[str, str, list[str]]]]:
    """(question, passage, answers) per kind, from held-out articles; answers [] for the hard cases."""
    questions = [q for q in training.load_questions() if q.held_out]
    finder = training.NegativeFinder(questions, seed)
    rng = random.Random(seed)
    rng.shuffle(questions)
    cases: dict[str, list] = {"answerable": [], "removed": [], "swapped": [], "other": []}
    for q in (q for q in questions if q.answerable):
        cases["answerable"].append((q.question, q.context, q.answers))
        if cut := training.without_answer(q):
            cases["removed"].append((q.question, cut, []))
        if swapped := finder.swapped(q, rng):
            cases["swapped"].append((swapped, q.context, []))
        other = finder.paragraph(q, {q.context}, rng)
        if not any(a.lower() in other.lower() for a in q.answers):
            cases["other"].append((q.question, other, []))
        if min(len(v) for v in cases.values()) >= n:
            break
    return {kind: found[:n] for kind, found in cases.items()}


def measure(reader: Reader, cases: dict[str, list]) -> dict:
    """Log-odds of the best span against "no answer" for every case; refusal at FALSE_ABSTAIN of the answerable."""
    odds, f1 = {}, []
    for kind, found in cases.items():
        odds[kind] = []
        for question, passage, answers in found:
            reading = reader.run(question, [passage])
            best = reading.best
            odds[kind].append(np.log(best.probability + 1e-9) - np.log(reading.no_answer + 1e-9) if best else -50.0)
            if kind == "answerable":
                f1.append(f1_score(passage[best.start : best.end] if best else "", answers))
    cut = float(np.quantile(odds["answerable"], FALSE_ABSTAIN))
    return {
        "answerable_f1": round(100 * float(np.mean(f1)), 2),
        "threshold": round(cut, 3),
        **{
            f"refused_{kind}": round(float(np.mean(np.array(v) < cut)), 4)
            for kind, v in odds.items()
            if kind != "answerable"
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--init", default=training.BASE_MODEL, help="the weights every run starts from (default: the base model)"
    )
    parser.add_argument("--questions", type=int, default=4800, help="training questions per run")
    parser.add_argument("--cases", type=int, default=600, help="held-out cases per kind")
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"of {', '.join(VARIANTS)}")
    parser.add_argument("--seed", type=int, default=99, help="the runs' data order (not the shipped run's)")
    parser.add_argument("--work", default=str(cache_dir() / "recipes"))
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    print(cpu_flags())
    cases = held_out_cases(args.seed, args.cases)
    print("held-out cases: " + ", ".join(f"{k} {len(v)}" for k, v in cases.items()))
    results = {}
    for name in args.variants.split(","):
        out = Path(args.work) / name
        subprocess.run(
            [
                sys.executable,
                "-m",
                "rag.training",
                "train",
                "--init",
                args.init,
                "--out",
                str(out),
                "--restart",
                "--seed",
                str(args.seed),
                "--questions",
                str(args.questions),
                "--recipes",
                VARIANTS[name],
                *([] if VARIANTS[name] else ["--null-share", "0"]),
                "--save-every",
                "1000",
            ],
            check=True,
        )
        results[name] = measure(Reader(out, precision="fp32"), cases)
        print(f"{name}: {results[name]}", flush=True)
    print(f"{'run':<16}{'F1':>8}" + "".join(f"{'refused ' + k:>18}" for k in ("removed", "swapped", "other")))
    for name, r in results.items():
        print(
            f"{name:<16}{r['answerable_f1']:>8}"
            + "".join(f"{r['refused_' + k]:>18}" for k in ("removed", "swapped", "other"))
        )
    if args.json:
        Path(args.json).write_text(
            json.dumps({"cpu": cpu_flags(), "args": vars(args), "results": results}, indent=2) + "\n"
        )


if __name__ == "__main__":
    main()
