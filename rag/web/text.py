"""Answers as text to copy or keep: an answer's quote with its citations in plain text, a citation as one line, a
conversation as Markdown, and the library in one line. Pure functions of answers as `Answer.to_dict()` gives them
(what the page keeps) and of the articles' metadata; nothing is invented: what an article does not say (its outlet,
its date) is left out, never guessed."""

from __future__ import annotations

import re

from ..conversation import Context
from ..metadata import Metadata, human_date
from ..states import STATE_WORDS

MAX_OUTLETS = 4  # named in the library's line; the rest are counted


def cited_as(citation: dict) -> str:
    """Where a quote stands, as a reader cites it: "The Independent, 19 Dec 2024 (001_….txt, line 20)"; the
    article's title stands for its outlet where that is unknown; the file and line (or page) always (a passage,
    which has no line: its file alone)."""
    where = citation["source"]
    if citation.get("page") or citation.get("line"):
        where += ", " + (f"page {citation['page']}" if citation.get("page") else f"line {citation['line']}")
    name = ", ".join(
        p for p in (citation.get("outlet") or citation.get("title"), human_date(citation.get("published"))) if p
    )
    return f"{name} ({where})" if name else where


def citation_text(citation: dict) -> str:
    """A citation with its own quote, as "Copy citation" gives it: “…” — The Independent, 19 Dec 2024 (file, line 20)."""
    return f"“{citation['quote']}” — {cited_as(citation)}"


def answer_text(answer: dict) -> str:
    """An answer as plain text, as "Copy answer" gives it: the words of its state where it has some (a tentative
    quote may not answer), the quote, then each citation on a line (with its own quote where that is another
    sentence), then the articles that give a different answer; an abstention says so and names the closest articles."""
    words = STATE_WORDS[answer["state"]]
    if answer["state"] == "abstained":
        closest = [f"— {cited_as(p)}" for p in answer.get("passages", [])[:3]]
        return "\n".join([words, *(["Closest articles:", *closest] if closest else [])])
    lines = [words] if words else []
    lines.append(f"“{answer['text']}”")
    agreeing = [c for c in answer["citations"] if c.get("agrees", True)]
    differing = [c for c in answer["citations"] if not c.get("agrees", True)]
    lines += [_cited_line(c, answer["text"]) for c in agreeing]
    if differing:
        lines.append("The articles differ:")
        lines += [_cited_line(c, answer["text"]) for c in differing]
    return "\n".join(lines)


def _cited_line(citation: dict, text: str) -> str:
    line = f"— {cited_as(citation)}"
    return line if citation["quote"] == text else f"{line}: “{citation['quote']}”"


def conversation_markdown(answers: list[dict]) -> str:
    """A conversation as Markdown, oldest question first: each question, how a follow-up was read, the quote as a
    block quote and its citations (or that the articles do not answer), all article and user text escaped."""
    out = ["# Verbatim conversation", ""]
    for turn, answer in enumerate(answers):
        out += [f"## {turn + 1}. {_escape(answer['question'])}", ""]
        if answer.get("context"):
            context = Context(**answer["context"])
            out += [f"*Read as: {_escape(context.question)} ({_escape(context.describe(turn))})*", ""]
        words = STATE_WORDS[answer["state"]]
        if answer["state"] == "abstained":
            out += [words, ""]
            continue
        if words:
            out += [f"**{words}**", ""]
        out += ["\n".join(f"> {_escape(line)}" for line in f"“{answer['text']}”".split("\n")), ""]
        agreeing = [c for c in answer["citations"] if c.get("agrees", True)]
        differing = [c for c in answer["citations"] if not c.get("agrees", True)]
        out += [f"- {_escape(_cited_line(c, answer['text'])[2:])}" for c in agreeing] + [""]
        if differing:
            out += ["The articles differ:", ""]
            out += [f"- {_escape(_cited_line(c, answer['text'])[2:])}" for c in differing] + [""]
    return "\n".join(out).rstrip("\n") + "\n"


_MARKDOWN = re.compile(r"([\\`*\[\]<>#|]|(?<![^\W_])_|_(?![^\W_]))")  # "_" where it can emphasise: not in a word


def _escape(text: str) -> str:
    """Text that Markdown shows as it is: its markup characters backslashed."""
    return _MARKDOWN.sub(r"\\\1", text)


def library_line(metas: list[Metadata]) -> str:
    """The library in one line: "5 articles · published 19 Dec 2024 – 23 Jan 2025 · 3 undated · from The
    Independent, Reuters (2 with no outlet named)"."""
    if not metas:
        return "The library is empty: add articles in the Library tab."
    parts = [f"{len(metas)} article{'s' if len(metas) != 1 else ''}"]
    dates = sorted(m.published for m in metas if m.published)
    if dates:
        first, last = human_date(dates[0]), human_date(dates[-1])
        parts.append(f"published {first}" if first == last else f"published {first} – {last}")
    if len(dates) < len(metas):
        parts.append(f"{len(metas) - len(dates)} undated")
    outlets = sorted({m.outlet for m in metas if m.outlet}, key=str.casefold)
    unnamed = sum(1 for m in metas if not m.outlet)
    if not outlets:
        parts.append("no outlet named")
    else:
        shown = ", ".join(outlets[:MAX_OUTLETS]) + (
            f" and {len(outlets) - MAX_OUTLETS} more" if len(outlets) > MAX_OUTLETS else ""
        )
        parts.append(f"from {shown}" + (f" ({unnamed} with no outlet named)" if unnamed else ""))
    return " · ".join(parts)
