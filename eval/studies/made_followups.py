"""Follow-ups by the hundred: held-out qa-train questions asked as follow-ups of another question of their
paragraph, through the whole pipeline, to choose follow-up methods on more than eval/data/conversations.jsonl's 60.

Each case is two turns over a corpus of the held-out articles the cases come from: an earlier question of a
paragraph, then another question of it cut down the way people ask a follow-up (models/training.py's
FollowUp: a name both turns give becomes he/she/it/there, "the treaty" becomes "it", a question the earlier turn
already says becomes "When?"). The follow-up is asked with the earlier answer as history, alone, and as the
question was written (the ceiling); the question as written is asked with the history too, where it stands
alone and must not be dragged back. The hit is the gold answer inside the quote, as in `rag eval`. Held-out
articles are never trained on (models/training.py keeps one article in 20 out), so a reader trained with
follow-ups made this way is measured on questions it has not read.

    python -m eval.studies.made_followups --cases 600 [--reader DIR ...] [--json OUT]

Several --reader folders are measured on the same cases in one run. The CPU's flags are printed.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

import rag
from rag import training
from rag.files import cache_dir
from rag.lexical import contains_answer
from rag.reader import cpu_flags
from rag.squad import import_squad

ASKED = ("with_history", "alone", "as_written", "as_written_with_history")


def made_cases(n: int, seed: int) -> tuple[list[tuple], list]:
    """Up to n (earlier question, question, follow-up) from held-out paragraphs, in a seeded order; and the held-out questions."""
    held = [q for q in training.load_questions() if q.held_out and q.answerable]
    turns = training.NegativeFinder(held, seed)  # its `earlier`: another question of the paragraph, as in training
    rng = random.Random(seed)
    cases = []
    for _, asked in sorted(turns.asked.items()):
        for q in asked:
            if (earlier := turns.earlier(q, rng)) and (made := training.FollowUp.make(q, earlier, rng)):
                cases.append((earlier, q, made))
    rng.shuffle(cases)
    return cases[:n], held


def corpus(cases: list[tuple], held: list, work: Path) -> Path:
    """The articles the cases come from (all their held-out paragraphs), as a corpus folder."""
    titles = {(q.source, q.title) for _, q, _ in cases}
    articles: dict[tuple[str, str], dict[str, None]] = {}
    for q in held:
        if (q.source, q.title) in titles:
            articles.setdefault((q.source, q.title), {})[q.context] = None
    squad = {
        "version": "v2.0",
        "data": [
            {
                "title": f"{source.split('.')[0]} {title}"[:80],
                "paragraphs": [{"context": c, "qas": []} for c in paragraphs],
            }
            for (source, title), paragraphs in sorted(articles.items())
        ],
    }
    work.mkdir(parents=True, exist_ok=True)
    (work / "articles.json").write_text(json.dumps(squad))
    return import_squad(work / "articles.json", work / "corpus")[0]


def measure(qa: rag.QA, cases: list[tuple]) -> dict:
    """Hit of each case's follow-up asked each way, by kind and in all; ask() ms of the follow-up with history and alone."""
    hits: dict[str, dict[str, list[bool]]] = {asked: {} for asked in ASKED}
    ms: dict[str, list[float]] = {"with_history": [], "alone": []}
    understood = 0
    for earlier, q, made in cases:
        history = [qa.ask(earlier.question)]
        for asked in ASKED:
            qa.clear_cache()
            started = time.perf_counter()
            question = q.question if asked.startswith("as_written") else made.question
            answer = qa.ask(question, history=history if asked.endswith("with_history") else None)
            if asked in ms:
                ms[asked].append(1000 * (time.perf_counter() - started))
            understood += asked == "with_history" and answer.context is not None
            hit = not answer.abstained and contains_answer(answer.text, q.answers)
            hits[asked].setdefault(made.kind, []).append(hit)
            hits[asked].setdefault("all", []).append(hit)
    figures = {
        asked: {kind: round(statistics.fmean(v), 4) for kind, v in kinds.items()} for asked, kinds in hits.items()
    }
    figures["ratio"] = round(figures["with_history"]["all"] / max(figures["as_written"]["all"], 1e-9), 4)
    figures["understood_as_follow_up"] = round(understood / len(cases), 4)
    figures["ask_ms_p50"] = {asked: round(statistics.median(v), 2) for asked, v in ms.items()}
    return figures


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=600)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--reader",
        action="append",
        default=None,
        metavar="DIR",
        help="reader folder to measure (repeatable; default: the shipped one)",
    )
    parser.add_argument(
        "--work",
        type=Path,
        default=cache_dir() / "made-followups",
        help="corpus and index (kept out of the repository)",
    )
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    print(cpu_flags(), file=sys.stderr)
    cases, held = made_cases(args.cases, args.seed)
    articles = corpus(cases, held, args.work)
    kinds = {
        kind: sum(made.kind == kind for _, _, made in cases) for kind in sorted({made.kind for _, _, made in cases})
    }
    figures = {"cases": len(cases), "kinds": kinds, "readers": {}}
    for reader in args.reader or [None]:
        qa = rag.build(articles, index_dir=args.work / "index", reader=reader)
        measured = measure(qa, cases)
        figures["readers"][str(qa.answer_builder.reader.path)] = measured
        print(f"{qa.answer_builder.reader.path}: {len(cases)} follow-ups ({kinds})")
        for asked in ASKED:
            print(f"  {asked:<24}" + "  ".join(f"{kind} {hit:.3f}" for kind, hit in measured[asked].items()))
        print(
            f"  follow-up with history / as written {measured['ratio']:.3f}; understood as a follow-up {measured['understood_as_follow_up']:.3f}; "
            f"ask() p50 {measured['ask_ms_p50']['with_history']:.1f} ms with history, {measured['ask_ms_p50']['alone']:.1f} alone"
        )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return figures


if __name__ == "__main__":
    main()
