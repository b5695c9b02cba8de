"""Verbatim web chat: ask the indexed articles, get verbatim quotes with their citations.

    python app.py [--corpus DIR] [--index-dir D] [--host H] [--port P]

The first start builds the index of the corpus (with progress on the terminal); later starts only
index what changed.
"""

from __future__ import annotations

import argparse
import html
import logging
import os

import gradio as gr

import rag

EXAMPLES = [
    "Who is the Kremlin spokesperson?",
    "When did Putin launch the full-scale invasion of Ukraine?",
    "What did Zelenskyy say Putin is trying to do?",
    "How many casualties has the war caused this month?",
]


def render(answer: rag.Answer) -> str:
    """The chat reply: the quote and its citations, or a plain statement that the articles do not answer."""
    if answer.abstained:
        closest = "\n".join(f"- `{p.source}`: {html.escape(p.text[:200])}…" for p in answer.passages[:3])
        return f"**{rag.NOT_ANSWERED}**\n\nClosest passages:\n{closest}"
    cites = "\n".join(f"- `{c.source}`, line {c.line} (chars {c.start}–{c.end})" for c in answer.citations)
    return f"> {html.escape(answer.text)}\n\n{cites}\n\nconfidence {answer.confidence:.2f}"


def create_app(qa: rag.QA) -> gr.Blocks:
    def respond(message: str, history: list) -> str:
        try:
            return render(qa.ask(message))
        except rag.InvalidQuestionError as exc:
            return f"⚠️ {exc}"

    return gr.ChatInterface(
        respond,
        title="Verbatim",
        description="Answers are sentences quoted verbatim from the articles, each with its source file and line.",
        examples=EXAMPLES,
        api_name="ask",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Verbatim web chat over a folder of articles.")
    parser.add_argument("--corpus", default=os.environ.get("VERBATIM_CORPUS", "data/articles"), help="articles folder (default: %(default)s)")
    parser.add_argument("--index-dir", default=os.environ.get("VERBATIM_INDEX_DIR", "index"), help="index folder (default: %(default)s)")
    parser.add_argument("--host", default=os.environ.get("VERBATIM_HOST", "127.0.0.1"), help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("VERBATIM_PORT", "7860")), help="port (default: %(default)s)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="warning: %(message)s")
    try:
        qa = rag.build(args.corpus, index_dir=args.index_dir, show_progress=True)
    except rag.RagError as exc:
        parser.exit(2, f"app.py: error: {exc}\n")
    print(f"index {args.index_dir}: {qa.report.summary()}")
    create_app(qa).queue().launch(server_name=args.host, server_port=args.port)


if __name__ == "__main__":
    main()
