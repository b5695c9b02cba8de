"""How far answers can be trusted, for several readers side by side in one run: every set and figure that
docs/quality.md reports for the three answer states and the reader's abstentions.

    python -m eval.studies.held_out      # once: the held-out qa-train sets under eval/cache/held-out/
    python -m eval.studies.trust --reader today=rag/models/reader --reader v3=~/.cache/verbatim/reader-v3 --json eval/reports/trust.json

Sets (each skipped with a note where its files are missing): eval/data/gold.jsonl and eval/data/conversations.jsonl over
data/articles; held-out SQuAD 2.0 articles; held-out CoQA CNN conversations and DoQA dialogs asked turn by turn
with the product's own earlier answers as history; a sample of the SQuAD half in ../shared/squad. Then ask() p50
over the gold questions, the readers taking turns question by question, with the CPU flags.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import rag
from eval import ARTICLES, CACHE, CONVERSATIONS, GOLD, ROOT, SHARED
from rag.embedding import Embedder
from rag.evaluation import (
    ConversationEvaluator,
    Evaluator,
    conversation_summary,
    load_conversations,
    load_gold,
    select,
    summarize,
)
from rag.reader import Reader, cpu_flags
from rag.squad import import_squad

HELD_OUT = CACHE / "held-out"
SQUAD = SHARED / "squad" / "squad-v1.1-dev-a.json"
GOLD_SETS = {
    "gold": (GOLD, ARTICLES),
    "squad2": (HELD_OUT / "squad2" / "gold.jsonl", HELD_OUT / "squad2" / "articles"),
    "squad": (CACHE / "squad-half" / "gold.jsonl", CACHE / "squad-half" / "articles"),
}
CONVERSATION_SETS = {
    "conversations": (CONVERSATIONS, ARTICLES),
    "coqa-cnn": (HELD_OUT / "coqa-cnn" / "conversations.jsonl", HELD_OUT / "coqa-cnn" / "articles"),
    "doqa": (HELD_OUT / "doqa" / "conversations.jsonl", HELD_OUT / "doqa" / "articles"),
}


def opened(corpus: Path, readers: dict[str, Reader], embedder: Embedder) -> dict[str, rag.QA]:
    """One index of `corpus` (built or brought up to date under index/eval/), opened once per reader."""
    index_dir = ROOT / "index" / "eval" / f"trust-{corpus.parent.name}-{corpus.name}"
    rag.build(corpus, index_dir=index_dir, embedder=embedder, reader=next(iter(readers.values())))
    return {name: rag.pipeline.reopen(index_dir, embedder, reader=reader) for name, reader in readers.items()}


def gold_figures(summary: dict) -> dict:
    """The figures of a gold run that the trust tables show."""
    abstain, states = summary["abstain"], summary["states"]
    return {
        "hit": summary["answer"]["hit"],
        "f1": summary["answer"]["f1"],
        "abstain recall": abstain["recall"],
        "false abstain": abstain["false_abstain_rate"],
        "recall @FA 0.05": abstain["recall_at_false_abstain_0.05"],
        "recall @FA 0.10": abstain["recall_at_false_abstain_0.10"],
        "AURC": summary["selective"]["aurc"],
        **{f"{s} share / right": f"{states[s]['share']:.3f} / {states[s]['right']:.3f}" for s in states},
    }


def conversation_figures(summary: dict) -> dict:
    """The figures of a conversations run that the trust tables show: hit with history and alone, refusals."""
    figures = {}
    for kind, label in (
        ("first", "first turns hit"),
        ("follow_up", "follow-ups hit"),
        ("self_contained", "self-contained hit"),
    ):
        if kind in summary:
            figures[label] = summary[kind]["with_history"]["hit"]
            figures[label.replace("hit", "hit alone")] = summary[kind]["alone"]["hit"]
    if "unanswerable_follow_up" in summary:
        figures["unanswerable follow-ups refused"] = summary["unanswerable_follow_up"]["with_history"]["abstain"]
    return figures


def latency(qas: dict[str, rag.QA], questions: list[str], rounds: int) -> dict[str, float]:
    """ask() p50 in ms per reader, the readers taking turns on each question, every round."""
    seconds: dict[str, list[float]] = {name: [] for name in qas}
    for _ in range(rounds):
        for question in questions:
            for name, qa in qas.items():
                qa.clear_cache()
                started = time.perf_counter()
                qa.ask(question)
                seconds[name].append(time.perf_counter() - started)
    return {name: round(1000 * statistics.median(s), 2) for name, s in seconds.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--reader", action="append", required=True, metavar="NAME=DIR", help="a reader to measure (repeat)"
    )
    parser.add_argument(
        "--squad-sample", type=int, default=1000, help="SQuAD half questions asked (default: %(default)s)"
    )
    parser.add_argument("--sets", default=",".join([*GOLD_SETS, *CONVERSATION_SETS]), help="which sets (default: all)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="latency rounds over the gold questions (default: %(default)s)"
    )
    parser.add_argument("--json", metavar="OUT", help="write every figure and summary as JSON")
    args = parser.parse_args(argv)
    readers = {name: Reader(Path(path).expanduser()) for name, path in (r.split("=", 1) for r in args.reader)}
    embedder = Embedder()
    chosen = args.sets.split(",")
    if "squad" in chosen and not GOLD_SETS["squad"][0].is_file() and SQUAD.is_file():
        import_squad(SQUAD, GOLD_SETS["squad"][0].parent)
    print(cpu_flags())
    figures: dict[str, dict[str, dict]] = {}
    summaries: dict[str, dict] = {}
    for name in chosen:
        gold, corpus = {**GOLD_SETS, **CONVERSATION_SETS}[name]
        if not gold.is_file() or not corpus.is_dir():
            print(
                f"{name}: {gold} or {corpus} is missing (python -m eval.studies.held_out makes the held-out sets); skipped"
            )
            continue
        qas = opened(corpus, readers, embedder)
        for reader, qa in qas.items():
            started = time.perf_counter()
            if name in GOLD_SETS:
                questions = select(load_gold(gold), None, args.squad_sample if name == "squad" else None, 0)
                summary = summarize(Evaluator(qa, retrievers=("hybrid",)).run(questions)["hybrid"])
                figures.setdefault(name, {})[reader] = gold_figures(summary)
            else:
                summary = conversation_summary(
                    ConversationEvaluator(qa, ways=("with_history", "alone")).run(load_conversations(gold))
                )
                figures.setdefault(name, {})[reader] = conversation_figures(summary)
            summaries.setdefault(name, {})[reader] = summary
            print(f"{name} · {reader}: {time.perf_counter() - started:.0f} s", file=sys.stderr)
        print(table(name, figures[name]), flush=True)
    if "gold" in chosen:
        qas = opened(GOLD_SETS["gold"][1], readers, embedder)
        p50 = latency(qas, [q.question for q in load_gold(GOLD_SETS["gold"][0])], args.rounds)
        figures["latency"] = {name: {"ask() p50 ms": ms} for name, ms in p50.items()}
        print(table("latency", figures["latency"]))
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {"cpu": cpu_flags(), "readers": args.reader, "figures": figures, "summaries": summaries}, indent=1
            )
            + "\n"
        )


def table(name: str, by_reader: dict[str, dict]) -> str:
    """A Markdown table: one row per figure, one column per reader."""
    readers = list(by_reader)
    rows = [f"\n### {name}\n", "| figure | " + " | ".join(readers) + " |", "|---" * (len(readers) + 1) + "|"]
    for key in next(iter(by_reader.values())):
        rows.append(f"| {key} | " + " | ".join(str(by_reader[r].get(key)) for r in readers) + " |")
    return "\n".join(rows)


if __name__ == "__main__":
    main()
