"""A question turned into what the page shows: chat messages and the Sources panel, or the /ask endpoint's JSON.
Errors a user can act on (a bad question, a damaged index) are said in words, never as a bare failure."""

from __future__ import annotations

import html
import logging

import gradio as gr

from ..errors import RagError
from ..filters import read_date
from ..retrieval import DEFAULT_RETRIEVER
from ..service import ChatService
from .render import render_answer, render_passages

log = logging.getLogger("verbatim.app")


def chat_filters(after: str | None, before: str | None, outlets: list[str] | None) -> dict | None:
    """The Settings' filters as `QA.ask` takes them (blank fields filter nothing)."""
    found = {"after": (after or "").strip(), "before": (before or "").strip(), "outlet": list(outlets or [])}
    return {key: value for key, value in found.items() if value} or None


DATE_FIELDS = {"after": "Published on or after", "before": "Published before"}


def settings_filters(after: str | None, before: str | None, outlets: list[str] | None) -> dict | None:
    """The Settings' filters with their days read as people type them ("3 Jan 2025") and written YYYY-MM-DD;
    InvalidQuestionError naming the field of a day that cannot be read."""
    found = chat_filters(after, before, outlets) or {}
    for key, label in DATE_FIELDS.items():
        if key in found:
            try:
                found[key] = read_date(found[key])
            except RagError as exc:
                raise type(exc)(f"{label}: {exc}") from None
    return found or None


def filtered_reply(
    service: ChatService, message: str, history: list, answers: list | None, k, mode: str, after, before, outlets
):
    """`chat_reply` with the Settings' filters: a day that cannot be read is said in the chat, and an answer read
    under filters is headed by what they leave ("Filtered to 2 of 5 articles: …")."""
    try:
        filters = settings_filters(after, before, outlets)
        summary = service.filter_summary(filters)
    except RagError as exc:
        if not (message or "").strip():
            return list(history or []), message, gr.skip(), list(answers or [])
        shown = list(history or []) + [{"role": "user", "content": html.escape(message)}, _warning(str(exc))]
        return shown, "", gr.skip(), list(answers or [])
    shown, box, passages, kept = chat_reply(service, message, history, answers, k, mode, filters)
    if summary and len(shown) > len(history or []) and shown[-1]["role"] == "assistant":
        note = f'<div class="vb-meta vb-filtered">{html.escape(summary)}</div>'
        shown[-1] = {**shown[-1], "content": note + shown[-1]["content"]}
    return shown, box, passages, kept


def chat_reply(
    service: ChatService, message: str, history: list, answers: list | None, k, mode: str, filters: dict | None = None
):
    """The chat after a question: (messages, the question box, the Sources panel, the conversation's answers).
    The answers so far (this browser session's, as `to_dict()`) go with the question, so a follow-up is read
    against them. Errors the user can act on (a bad question, a damaged index) are said in the chat, never as a
    bare error toast."""
    history, answers = list(history or []), list(answers or [])
    if not (message or "").strip():
        return history, message, gr.skip(), answers
    history.append({"role": "user", "content": html.escape(message)})
    try:
        answer = service.ask(message, k, mode, answers, filters)
    except RagError as exc:
        return history + [_warning(str(exc))], "", gr.skip(), answers
    except Exception:
        log.exception("question failed: %r", message)
        return (
            history + [_warning("the server failed (its log says why)")],
            "",
            gr.skip(),
            answers,
        )
    history.append({"role": "assistant", "content": render_answer(answer, len(answers))})
    return history, "", render_passages(answer.passages), answers + [answer.to_dict()]


def _warning(text: str) -> dict:
    """A chat message that says what went wrong, in the abstention's box."""
    return {
        "role": "assistant",
        "content": f'<div class="vb-abstain"><strong>Not answered:</strong> {html.escape(text)}</div>',
    }


def answer_json(
    service: ChatService,
    question: str,
    k=5,
    retriever: str = DEFAULT_RETRIEVER,
    history: list | None = None,
    filters: dict | None = None,
) -> dict:
    """The /ask endpoint's answer; a RagError becomes a gr.Error, whose message API callers receive."""
    try:
        answer = service.ask(question, k, retriever, history, filters).to_dict()
        summary = service.filter_summary(filters)
    except RagError as exc:
        raise gr.Error(str(exc)) from exc
    return {**answer, "filtered": summary} if summary else answer
