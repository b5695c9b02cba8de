"""The HTML of the chat's answers, the Sources panel and the Article panel: pure functions of an answer, its
passages and an article; every piece of article or user text is escaped, so none can become live HTML or Markdown."""

from __future__ import annotations

import html
import re

from ..answers import Answer, named
from ..metadata import human_date
from ..retrieval import Passage
from ..segments import StoredDocument
from ..states import STATE_WORDS
from .copying import copy_answer_button, copy_citation_button


def _target(source: str, start: int, end: int) -> str:
    """What a click on a chip or passage sends to the server: "source|start|end", escaped for an attribute."""
    return html.escape(f"{source}|{start}|{end}", quote=True)


def _chip(source: str, start: int, end: int, label: str, title: str = "") -> str:
    """A citation chip: a link that opens the article at the cited span."""
    hover = html.escape(f"{title} · {source}" if title else source)
    return f'<a class="vb-chip" href="#" data-vb-target="{_target(source, start, end)}" title="open {hover}">{html.escape(label)}</a>'


def render_answer(answer: Answer, turns: int = 0) -> str:
    """The chat reply: how a follow-up was understood, then the quote with its short answer marked, confidence
    and citation chips, in a box and words that say its state (a tentative quote is headed as one that may not
    answer); or the plain statement that the articles do not answer, with the closest passages.
    `turns`: how many answers came before it in the conversation."""
    return _understood(answer, turns) + _reply(answer) + copy_answer_button(answer.to_dict())


def _understood(answer: Answer, turns: int) -> str:
    if answer.context is None:
        return ""
    return (
        f'<div class="vb-context" title="{html.escape(answer.context.read_with(turns, answer.question))}">'
        f"{html.escape(answer.context.describe(turns))}</div>"
    )


def _reply(answer: Answer) -> str:
    if answer.abstained:
        items = "".join(
            f"<li>{_chip(p.source, p.start, p.end, named(p.source, p.meta.outlet, p.meta.published, p.meta.title), p.meta.title)} {html.escape(_shorten(p.text, 160))}</li>"
            for p in answer.passages[:3]
        )
        return (
            f'<div class="vb-abstain"><strong>{html.escape(STATE_WORDS[answer.state])}</strong>'
            f'<div class="vb-meta">best guess {_likely(answer.confidence)} · closest passages:</div><ul>{items}</ul></div>'
        )
    first = answer.citations[0]
    quote = html.escape(answer.text)
    if answer.span:
        before = html.escape(answer.text[: answer.span.start - first.start])
        after = html.escape(answer.text[answer.span.end - first.start :])
        quote = f"{before}<mark>{html.escape(answer.span.text)}</mark>{after}"
    chips = "".join(
        _chip(c.source, c.start, c.end, c.label, c.meta.title) + copy_citation_button(c)
        for c in answer.citations
        if c.agrees
    )
    quote = quote.replace("\n", "<br>")  # a blank line would end the HTML block and let Markdown in
    heading = (
        f'<div class="vb-state">{html.escape(STATE_WORDS[answer.state])}</div>' if STATE_WORDS[answer.state] else ""
    )
    return (
        f'<div class="vb-answer vb-{answer.state}">{heading}<blockquote>{_opening(answer.text)}{quote}{_closing(answer.text)}</blockquote>'
        f'<div class="vb-meta">{_likely(answer.confidence)}</div><div class="vb-chips">{chips}</div>'
        f"{_differing(answer)}</div>"
    )


def _opening(text: str) -> str:
    """The opening quote mark a quote is shown with, unless its text begins with one already."""
    return "" if text.lstrip()[:1] in QUOTE_MARKS else "“"


def _closing(text: str) -> str:
    return "" if text.rstrip()[-1:] in QUOTE_MARKS else "”"


def _likely(probability: float) -> str:
    """A calibrated probability as the chat and the Sources panel both say it: "62% likely to hold the answer"."""
    return f"{probability:.0%} likely to hold the answer"


def _differing(answer: Answer) -> str:
    """When articles give different answers: each one's answer beside its outlet and date ("The Independent · 19 Dec
    2024: …; Reuters · 23 Jan 2025: …"), each a chip that opens its quote."""
    differing = [c for c in answer.citations if not c.agrees]
    if not differing:
        return ""
    sides = [c for c in answer.citations[:1] if c.span] + differing
    items = "".join(
        f"<li>{_chip(c.source, c.start, c.end, named(c.source, c.meta.outlet, c.meta.published, c.meta.title), c.meta.title)}"
        f"{copy_citation_button(c)} "
        f"{_q(_shorten(c.span.text if c.span else c.quote, 120))}</li>"
        for c in sides
    )
    return f'<div class="vb-differ"><div class="vb-meta">The articles differ:</div><ul>{items}</ul></div>'


def render_passages(passages: list[Passage]) -> str:
    """The Sources panel: each passage an answer was read from, ranked, with what the reader found there."""
    if not passages:
        return '<div class="vb-meta">Ask a question: the passages it was answered from appear here, most likely answer first.</div>'
    return "".join(render_source_card(p, rank) for rank, p in enumerate(passages, 1))


SOURCE_WINDOW = 320  # characters of a passage a Sources card shows, around the reader's answer
QUOTE_MARKS = "\"'“”‘’«»„‟‹›"


def render_source_card(passage: Passage, rank: int) -> str:
    """One Sources card: who published it and what the reader found there, the article's headline and dateline
    apart when the passage begins with them, then the part of the passage around its answer, the answer marked."""
    p = passage
    heads, body = _heading_lines(p.text, p.meta.title)
    headed = "".join(
        f'<div class="{"vb-headline" if kind == "headline" else "vb-dateline"}">{html.escape(line)}</div>'
        for kind, line in heads
    )
    return (
        f'<div class="vb-passage" data-vb-target="{_target(p.source, p.start, p.end)}">'
        f'<div class="vb-meta"><span title="{html.escape(p.source, quote=True)}">#{rank} · '
        f"{html.escape(named(p.source, p.meta.outlet, p.meta.published, p.meta.title))}</span>{_reading(p)}</div>"
        f'{headed}<div class="vb-excerpt">{source_window(body, p.answer)}</div></div>'
    )


def _heading_lines(text: str, title: str | None) -> tuple[list[tuple[str, str]], str]:
    """The headline and dateline lines a passage begins with (short lines that end no sentence: at most three),
    each as ("headline" | "dateline", line), and the body after them."""
    heads: list[tuple[str, str]] = []
    rest = text.lstrip()
    wanted = " ".join((title or "").split()).casefold()
    while len(heads) < 3 and "\n" in rest:
        line, remainder = rest.split("\n", 1)
        line = " ".join(line.split())
        headline = bool(wanted) and line.casefold() == wanted
        ends_a_sentence = not line or line[-1] in ".!?:;," + QUOTE_MARKS
        if not remainder.strip() or not headline and (len(line) > 120 or ends_a_sentence):
            break
        heads.append(("headline" if headline else "dateline", line))
        rest = remainder.lstrip()
    return heads, rest if heads else text


def source_window(text: str, answer: str | None, width: int = SOURCE_WINDOW) -> str:
    """HTML of about `width` characters of `text` around the first place `answer` stands in it, the answer in
    <mark>, "…" where the text is cut; the text's start when there is no answer in it."""
    at = text.find(answer) if answer else -1
    if at < 0:
        return html.escape(_shorten(text, width))
    end = at + len(answer)
    room = max(0, width - len(answer))
    begin = max(0, at - room // 3)
    stop = min(len(text), end + room - (at - begin))
    begin = max(0, begin - (room - (at - begin) - (stop - end)))  # near the end: more text before
    if begin > 0:  # cut at a word boundary
        space = text.find(" ", begin, at)
        begin = space + 1 if space >= 0 else begin
    if stop < len(text):
        space = text.rfind(" ", end, stop)
        stop = space if space >= 0 else stop
    before, after = _spaced(text[begin:at]).lstrip(), _spaced(text[end:stop]).rstrip()
    return (
        ("…" if begin > 0 else "")
        + html.escape(before)
        + f"<mark>{html.escape(_spaced(answer))}</mark>"
        + html.escape(after)
        + ("…" if stop < len(text) else "")
    )


def _spaced(text: str) -> str:
    """Each run of white space (line breaks too) as one space."""
    return re.sub(r"\s+", " ", text)


def _q(text: str) -> str:
    """Text in <q>, without the quote mark the browser adds where the text already has one (no “““)."""
    marks = [c for c, has in (("vb-q-open", text[:1] in QUOTE_MARKS), ("vb-q-close", text[-1:] in QUOTE_MARKS)) if has]
    classes = f' class="{" ".join(marks)}"' if marks else ""
    return f"<q{classes}>{html.escape(text)}</q>"


def _reading(passage: Passage) -> str:
    """What the reader found in a passage, as a person reads it: its answer there and how likely its quote is to hold
    the answer, the same probability, in the same words, as the chat shows for the answer it quotes."""
    if passage.answer is None:
        return '<span class="vb-reading">not read</span>'
    return (
        f'<span class="vb-reading">answer here: {_q(_shorten(passage.answer, 40))} · '
        f"{_likely(passage.probability)}</span>"
    )


def render_article(document: StoredDocument, start: int, end: int) -> str:
    """The whole article with the cited span highlighted (id vb-hit, scrolled into view)."""
    text = document.text
    start, end = max(0, min(start, len(text))), max(0, min(end, len(text)))
    body = (
        f'{html.escape(text[:start])}<mark id="vb-hit">{html.escape(text[start:end])}</mark>{html.escape(text[end:])}'
    )
    meta = document.meta
    byline = " · ".join(html.escape(p) for p in (meta.outlet, human_date(meta.published), meta.author) if p)
    link = (
        f' · <a href="{html.escape(meta.url, quote=True)}" target="_blank" rel="noopener noreferrer">original</a>'
        if meta.url and meta.url.startswith(("http://", "https://"))
        else ""
    )
    return (
        f'<div class="vb-article"><div class="vb-article-head"><h3>{html.escape(meta.title or "")}</h3>'
        f'<div class="vb-meta">{byline + " · " if byline else ""}{html.escape(document.id)}{link}</div></div>'
        f"{body}</div>"
    )


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
