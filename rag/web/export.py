"""What the page gives beside the chat itself: the conversation as Markdown, downloaded as a file made in the
browser (nothing is written on the server), and what the empty chat says about the library."""

from __future__ import annotations

import html
import json

import gradio as gr

from ..segments import DocumentInfo
from .text import conversation_markdown, library_line

EXPORT_NAME = "verbatim-conversation.md"


def conversation_export(answers: list[dict] | None) -> tuple[str, gr.Button, gr.Button]:
    """The conversation as Markdown for the hidden box the download and the copy read, and those two buttons,
    which cannot be pressed before there is an answer."""
    markdown = conversation_markdown(answers) if answers else ""
    return markdown, gr.Button(interactive=bool(answers)), gr.Button(interactive=bool(answers))


# The download button's click: the hidden box's Markdown saved as a file, made in the browser.
DOWNLOAD_JS = """
() => {
  const box = document.querySelector('#vb-export-text textarea');
  if (!box || !box.value) return;
  const link = document.createElement('a');
  link.href = URL.createObjectURL(new Blob([box.value], { type: 'text/markdown;charset=utf-8' }));
  link.download = NAME;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}
""".replace("NAME", json.dumps(EXPORT_NAME))


# The copy button's click: the same Markdown on the clipboard (through a hidden textarea where the Clipboard API is
# missing, as on plain http away from localhost).
COPY_CONVERSATION_JS = """
async () => {
  const text = document.querySelector('#vb-export-text textarea')?.value;
  if (!text) return;
  try { await navigator.clipboard.writeText(text); } catch (error) {
    const area = document.createElement('textarea');
    area.value = text;
    document.body.appendChild(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
}
"""


def empty_chat(documents: list[DocumentInfo]) -> str:
    """The empty chat's words: what the library holds (how many articles, their dates, their outlets)."""
    return (
        '<div class="vb-empty"><strong>Ask about the articles in the library</strong>'
        f'<div id="vb-library-line">{html.escape(library_line([d.meta for d in documents]))}</div>'
        "<div>Answers are sentences quoted verbatim from them, each cited.</div></div>"
    )
