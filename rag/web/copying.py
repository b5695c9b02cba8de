"""Copying from the chat as plain text: a "Copy answer" button under each answer and a "Copy citation" button beside
each citation chip, each holding its text (rag/web/text.py) in a data attribute that the page's script puts on the
clipboard; Gradio's own copy buttons, which copy the answer's HTML, are not shown."""

from __future__ import annotations

import html
import json
from dataclasses import asdict

from ..answers import Citation
from .text import answer_text, citation_text


def _attribute(text: str) -> str:
    """Text for an HTML attribute inside a chat message: escaped, and its line ends as character references, so
    that no blank line ends the message's HTML block and lets Markdown in."""
    return html.escape(text, quote=True).replace("\n", "&#10;")


def copy_answer_button(answer: dict) -> str:
    return (
        f'<div class="vb-copy-row"><button type="button" class="vb-copy vb-copy-answer" '
        f'data-vb-copy="{_attribute(answer_text(answer))}" title="Copy the quote and its citations as text">'
        "Copy answer</button></div>"
    )


def copy_citation_button(citation: Citation) -> str:
    data = asdict(citation)
    data.update(data.pop("meta"))  # as Answer.to_dict() has it
    return (
        f'<button type="button" class="vb-copy vb-copy-citation" data-vb-copy="{_attribute(citation_text(data))}" '
        'title="Copy citation: the quote, its outlet, date, file and line" aria-label="Copy citation">copy</button>'
    )


COPY_CSS = """
#vb-chat button.vb-copy { font-size: .75em; line-height: 1.3; border: 1px solid #9ca3af; border-radius: 4px;
  background: #fff; color: #374151; padding: .05em .5em; margin: .15em .45em .15em 0; cursor: pointer;
  vertical-align: middle; }
#vb-chat button.vb-copy:hover { background: #f3f4f6; }
#vb-chat .vb-copy-row { margin-top: .35em; }
.dark #vb-chat button.vb-copy { background: #1f2937; color: #e5e7eb; border-color: #6b7280; }
"""

# Run once on page load: a click on a [data-vb-copy] button puts its text on the clipboard (through a hidden
# textarea where the Clipboard API is missing, as on plain http away from localhost) and says "Copied" for a moment.
COPY_JS = """
() => {
  const style = document.createElement('style');
  style.textContent = CSS_TEXT;
  document.head.appendChild(style);
  const fallback = (text) => {
    const area = document.createElement('textarea');
    area.value = text;
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.appendChild(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  };
  document.addEventListener('click', async (event) => {
    const button = event.target.closest('[data-vb-copy]');
    if (!button) return;
    event.preventDefault();
    event.stopPropagation();
    const text = button.dataset.vbCopy;
    try { await navigator.clipboard.writeText(text); } catch (error) { fallback(text); }
    button.dataset.vbLabel ??= button.textContent;
    button.textContent = 'Copied';
    setTimeout(() => { button.textContent = button.dataset.vbLabel; }, 1200);
  }, true);
}
""".replace("CSS_TEXT", json.dumps(COPY_CSS))
