"""Answers of a sharded index against an unsharded index of the same articles, on the gold questions: how much
per-shard BM25 statistics move them (docs/scaling.md).

    python -m eval.studies.shard_agreement [--shards 2] [--json eval/reports/shard-agreement.json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from eval import ARTICLES, GOLD


def cited(answer) -> list[tuple]:
    return [(c.source, c.start, c.end) for c in answer.citations]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shards", type=int, default=2)
    parser.add_argument("--json", default=None, metavar="OUT")
    args = parser.parse_args()
    import rag
    from rag.indexing import Indexer
    from rag.shards import ShardedIndexer

    root = Path(tempfile.mkdtemp(prefix="verbatim-shards-"))
    single = rag.build(ARTICLES, root / "single")
    ShardedIndexer(Indexer(single.embedder), args.shards).run(ARTICLES, root / "sharded")
    sharded = rag.load(root / "sharded", reader=single.answer_builder.reader)
    same = {"quote": 0, "state": 0, "citations": 0, "in full": 0}
    questions = [json.loads(line)["question"] for line in GOLD.open()]
    for question in questions:
        a, b = single.ask(question), sharded.ask(question)
        same["quote"] += a.text == b.text
        same["state"] += a.state == b.state
        same["citations"] += cited(a) == cited(b)
        same["in full"] += (a.text, a.state, a.span, cited(a)) == (b.text, b.state, b.span, cited(b))
    figures = {"questions": len(questions), "shards": args.shards, "same": same}
    print(json.dumps(figures))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main()
