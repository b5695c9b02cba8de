"""What the page gives beside the chat itself: the conversation as a Markdown file to download, and what the empty
chat says about the library."""

from __future__ import annotations

import hashlib
import html
import tempfile
from pathlib import Path

import gradio as gr

from ..segments import DocumentInfo
from .text import conversation_markdown, library_line

EXPORT_NAME = "verbatim-conversation.md"
_EXPORTS = Path(tempfile.gettempdir()) / "verbatim-exports"


def conversation_file(answers: list[dict] | None) -> gr.DownloadButton:
    """The download button holding the conversation as Markdown (a file named by its content, so that pages asking
    the same questions share it); without answers, a button that cannot be pressed."""
    if not answers:
        return gr.DownloadButton(value=None, interactive=False)
    text = conversation_markdown(answers)
    folder = _EXPORTS / hashlib.sha256(text.encode()).hexdigest()[:16]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / EXPORT_NAME
    path.write_text(text, encoding="utf-8")
    return gr.DownloadButton(value=str(path), interactive=True)


def empty_chat(documents: list[DocumentInfo]) -> str:
    """The empty chat's words: what the library holds (how many articles, their dates, their outlets)."""
    return (
        '<div class="vb-empty"><strong>Ask about the articles in the library</strong>'
        f'<div id="vb-library-line">{html.escape(library_line([d.meta for d in documents]))}</div>'
        "<div>Answers are sentences quoted verbatim from them, each cited.</div></div>"
    )
