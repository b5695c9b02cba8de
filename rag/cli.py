"""The `rag` command: build an index, ask questions, evaluate."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys

from .errors import RagError

DEFAULT_INDEX_DIR = os.environ.get("VERBATIM_INDEX_DIR", "index")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rag",
        description="Verbatim: answer questions about a folder of news articles with verbatim, cited quotes.",
        epilog="Example: rag index data/articles && rag ask \"Who is the Kremlin spokesperson?\"",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    index = commands.add_parser("index", help="build or update the index of a folder of articles",
                                description="Index every .txt, .md and .html file under DIR. Only added, changed "
                                            "and removed files are processed; an unchanged corpus embeds nothing.")
    index.add_argument("corpus", metavar="DIR", help="folder of articles")
    index.add_argument("--index-dir", default=DEFAULT_INDEX_DIR, metavar="D", help="where the index lives (default: %(default)s)")
    index.add_argument("--model", default=None, help="sentence-transformers model name or local folder (default: all-MiniLM-L6-v2)")
    index.add_argument("--rebuild", action="store_true", help="start from scratch (needed after changing model or chunker)")
    index.set_defaults(run=_index)

    ask = commands.add_parser("ask", help="ask a question of an indexed corpus",
                              description="Answer QUESTION with a verbatim quote from the articles and its citation, "
                                          "or say that the articles do not answer it.")
    ask.add_argument("question", metavar="QUESTION")
    ask.add_argument("-k", type=int, default=5, metavar="N", help="passages to retrieve (default: %(default)s)")
    ask.add_argument("--index-dir", default=DEFAULT_INDEX_DIR, metavar="D", help="index to ask (default: %(default)s)")
    ask.add_argument("--retriever", default=None, choices=("hybrid", "dense", "bm25"), help="retrieval mode (default: hybrid)")
    ask.add_argument("--json", action="store_true", help="print the whole answer as JSON")
    ask.set_defaults(run=_ask)
    return parser


def _index(args: argparse.Namespace) -> int:
    from .embedding import Embedder
    from .indexing import Indexer

    report = Indexer(Embedder(args.model)).run(args.corpus, args.index_dir, rebuild=args.rebuild, show_progress=True)
    print(f"{args.index_dir}: {report.summary()}")
    return 0


def _ask(args: argparse.Namespace) -> int:
    from .answers import NOT_ANSWERED
    from .pipeline import check_question, load

    check_question(args.question)
    answer = load(args.index_dir).ask(args.question, k=args.k, retriever=args.retriever)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return 0
    if answer.abstained:
        print(NOT_ANSWERED)
        print("\nClosest passages:")
        for passage in answer.passages:
            print(f"  [{passage.source}, chars {passage.start}-{passage.end}] {passage.text[:160]}…")
        return 0
    print(f"“{answer.text}”")
    for citation in answer.citations:
        print(f"  — {citation.source}, line {citation.line}, chars {citation.start}-{citation.end}")
    print(f"confidence {answer.confidence:.2f}")
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="warning: %(message)s")
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except RagError as exc:
        print(f"rag: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rag: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
