"""The reader alone, given each question's gold paragraph: SQuAD exact match and F1, its time per
question, and (with --compare-precision) the same for its other precision (int8 or fp32) and how often
the two pick the same span; or (with --compare DIR) the same for another reader folder.

    python -m eval.studies.reader_eval ../shared/squad/squad-v1.1-dev-a.json
    python -m eval.studies.reader_eval ../shared/squad/squad-v1.1-dev-a.json --compare-precision --json out.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from rag.evaluation import exact_match, f1_score
from rag.reader import Reader, cpu_flags


def read_paragraphs(reader: Reader, questions: list[tuple[str, str, list[str]]]) -> tuple[list[str], dict]:
    """The reader alone, given each question's gold paragraph ((question, paragraph, answers) triples):
    its spans, and its SQuAD exact match and F1 (in %) and median time per question."""
    spans, seconds = [], []
    for question, paragraph, _ in questions:
        started = time.perf_counter()
        best = reader.run(question, [paragraph]).best
        seconds.append(time.perf_counter() - started)
        spans.append(paragraph[best.start : best.end] if best else "")
    return spans, {
        "em": round(100 * float(np.mean([exact_match(s, q[2]) for s, q in zip(spans, questions)])), 2),
        "f1": round(100 * float(np.mean([f1_score(s, q[2]) for s, q in zip(spans, questions)])), 2),
        "p50_ms": round(1000 * float(np.percentile(seconds, 50)), 2),
    }


def span_agreement(spans: list[str], others: list[str]) -> dict:
    """How often two readers pick the same span, and their F1 against each other (in %)."""
    return {
        "same_span": round(float(np.mean([a == b for a, b in zip(spans, others)])), 4),
        "f1_between": round(100 * float(np.mean([f1_score(a, [b]) for a, b in zip(spans, others)])), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("squad", help="a SQuAD v1.1/v2.0 JSON file (its answerable questions are read)")
    parser.add_argument("--reader", default=None, help="reader folder (default: $VERBATIM_READER or rag/models/reader)")
    parser.add_argument(
        "--precision", choices=["fp32", "int8"], default=None, help="run the reader so (default: the faster here)"
    )
    parser.add_argument("--compare", default=None, help="a second reader folder to compare spans with")
    parser.add_argument(
        "--compare-precision", action="store_true", help="compare with the same reader in its other precision"
    )
    parser.add_argument("--limit", type=int, default=None, help="only the first N questions")
    parser.add_argument("--json", default=None, help="also write the figures here")
    args = parser.parse_args()
    data = json.loads(Path(args.squad).read_text(encoding="utf-8"))["data"]
    questions = [
        (qa["question"], p["context"], [a["text"] for a in qa["answers"]])
        for article in data
        for p in article["paragraphs"]
        for qa in p["qas"]
        if qa["answers"]
    ][: args.limit]
    print(cpu_flags(), file=sys.stderr)
    reader = Reader(args.reader, precision=args.precision)
    spans, read = read_paragraphs(reader, questions)
    figures = {"questions": len(questions), "reader": str(reader.path), "precision": reader.running, **read}
    if args.compare or args.compare_precision:
        other = Reader(
            args.compare or args.reader,
            precision=({"fp32": "int8", "int8": "fp32"}[reader.running] if args.compare_precision else None),
        )
        other_spans, compared = read_paragraphs(other, questions)
        figures["compare"] = {"reader": str(other.path), "precision": other.running, **compared}
        figures.update(span_agreement(spans, other_spans))
    print(json.dumps(figures, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
