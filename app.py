"""Verbatim web chat: ask the articles, read the verbatim answer, open the cited article beside the chat.

    python app.py [--corpus DIR] [--index-dir D] [--host H] [--port P]

The first start builds the index of the corpus (with progress on the terminal); later starts only
index what changed. The API endpoint `/ask` answers a question as JSON for `gradio_client`.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import logging
import os
import threading
import time
from pathlib import Path

import gradio as gr

import rag
from rag.access import Access
from rag.answers import human_date, named
from rag.library import MAX_UPLOAD_BYTES, Library, UploadResult
from rag.states import STATE_WORDS

log = logging.getLogger("verbatim.app")

EXAMPLES = [
    "Who is the Kremlin spokesperson?",
    "In what year did Russia launch its full-scale invasion of Ukraine?",
    "In which city did Trump address the World Economic Forum?",
    "Why has Zelensky's presidential term been prolonged?",
    "How many nuclear warheads does Russia possess?",
]

CSS = """
.vb-hidden { display: none !important; }
.vb-answer blockquote { margin: 0 0 .5em 0; padding: .4em .8em; border-left: 4px solid #2563eb; background: #eff6ff;
  color: #111827; border-radius: 4px; overflow-wrap: anywhere; }
.vb-answer mark, .vb-article mark { background: #fde047; color: #111827; padding: 0 .1em; border-radius: 2px; }
.vb-meta { font-size: .85em; color: #4b5563; margin: .2em 0; }
.vb-context { font-size: .8em; color: #6b7280; font-style: italic; margin-bottom: .3em; }
.vb-chip { display: inline-block; margin: .15em .3em .15em 0; padding: .15em .6em; border-radius: 999px;
  border: 1px solid #2563eb; color: #1d4ed8 !important; background: #fff; cursor: pointer; font-size: .85em;
  text-decoration: none !important; max-width: 100%; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.vb-chip:hover { background: #dbeafe; }
.vb-differ ul { margin: .3em 0 0 1.1em; padding: 0; } .vb-differ li { margin: .15em 0; }
.vb-abstain { border-left: 4px solid #d97706; background: #fffbeb; color: #111827; padding: .4em .8em; border-radius: 4px; }
.vb-abstain ul { margin: .3em 0 0 1em; padding: 0; }
.vb-tentative { border: 2px dashed #b45309; border-radius: 6px; padding: .4em .6em; }
.vb-tentative blockquote { border-left: 4px dashed #6b7280; background: #f3f4f6; }
.vb-state { font-weight: 600; color: #92400e; margin-bottom: .3em; }
.dark .vb-answer blockquote { background: #172554; color: #f3f4f6; border-left-color: #60a5fa; }
.dark .vb-tentative { border-color: #f59e0b; }
.dark .vb-tentative blockquote { background: #374151; color: #f3f4f6; border-left-color: #9ca3af; }
.dark .vb-state { color: #fcd34d; }
.dark .vb-abstain { background: #451a03; color: #fef3c7; border-left-color: #f59e0b; }
.dark .vb-meta { color: #d1d5db; }
.dark .vb-context { color: #9ca3af; }
.dark .vb-chip { background: #1f2937; color: #93c5fd !important; border-color: #60a5fa; }
.dark .vb-chip:hover { background: #1e3a8a; }
.vb-passage { border: 1px solid #e5e7eb; border-radius: 6px; padding: .5em .7em; margin-bottom: .5em; cursor: pointer;
  color: inherit; overflow-wrap: anywhere; }
.vb-passage:hover { border-color: #2563eb; }
.vb-passage .vb-meta { display: flex; flex-wrap: wrap; justify-content: space-between; gap: 0 .5em; }
.vb-article { white-space: pre-wrap; overflow-wrap: anywhere; max-height: 65vh; overflow-y: auto; line-height: 1.5;
  padding: .6em; border: 1px solid #e5e7eb; border-radius: 6px; }
.vb-article h3 { white-space: normal; margin-top: 0; }
"""

# Clicks on citation chips and passages put "source|start|end" into a hidden box and press a hidden
# button, so the server renders that article beside the chat; then the highlight is scrolled into view.
JS = """
() => {
  document.addEventListener('click', (event) => {
    const chip = event.target.closest('[data-vb-target]');
    if (!chip) return;
    event.preventDefault();
    const box = document.querySelector('#vb-open-target textarea, #vb-open-target input');
    box.value = chip.dataset.vbTarget;
    box.dispatchEvent(new Event('input', { bubbles: true }));
    setTimeout(() => document.querySelector('#vb-open-button').click(), 60);
  });
}
"""
SCROLL_TO_HIGHLIGHT = """
() => {
  setTimeout(() => {
    const hit = document.querySelector('#vb-hit');
    const panel = hit?.closest('.vb-article');
    if (panel) panel.scrollTop = hit.offsetTop - panel.offsetTop - panel.clientHeight / 3;
  }, 150);
}
"""


def _target(source: str, start: int, end: int) -> str:
    return html.escape(f"{source}|{start}|{end}", quote=True)


def _chip(source: str, start: int, end: int, label: str, title: str = "") -> str:
    hover = html.escape(f"{title} · {source}" if title else source)
    return f'<a class="vb-chip" href="#" data-vb-target="{_target(source, start, end)}" title="open {hover}">{html.escape(label)}</a>'


def render_answer(answer: rag.Answer, turns: int = 0) -> str:
    """The chat reply: how a follow-up was understood, then the quote with its short answer marked, confidence
    and citation chips, in a box and words that say its state (a tentative quote is headed as one that may not
    answer); or the plain statement that the articles do not answer, with the closest passages.
    `turns`: how many answers came before it in the conversation."""
    return _understood(answer, turns) + _reply(answer)


def _understood(answer: rag.Answer, turns: int) -> str:
    if answer.context is None:
        return ""
    return (f'<div class="vb-context" title="read as: {html.escape(answer.context.question)}">'
            f"{html.escape(answer.context.describe(turns))}</div>")


def _reply(answer: rag.Answer) -> str:
    if answer.abstained:
        items = "".join(
            f"<li>{_chip(p.source, p.start, p.end, named(p.source, p.outlet, p.published), p.title)} {html.escape(_shorten(p.text, 160))}</li>" for p in answer.passages[:3]
        )
        return (f'<div class="vb-abstain"><strong>{html.escape(STATE_WORDS[answer.state])}</strong>'
                f'<div class="vb-meta">best guess {_likely(answer.confidence)} · closest passages:</div><ul>{items}</ul></div>')
    first = answer.citations[0]
    quote = html.escape(answer.text)
    if answer.span:
        before = html.escape(answer.text[: answer.span.start - first.start])
        after = html.escape(answer.text[answer.span.end - first.start :])
        quote = f"{before}<mark>{html.escape(answer.span.text)}</mark>{after}"
    chips = "".join(_chip(c.source, c.start, c.end, c.label, c.title) for c in answer.citations if c.agrees)
    quote = quote.replace("\n", "<br>")  # a blank line would end the HTML block and let Markdown in
    heading = f'<div class="vb-state">{html.escape(STATE_WORDS[answer.state])}</div>' if STATE_WORDS[answer.state] else ""
    return (f'<div class="vb-answer vb-{answer.state}">{heading}<blockquote>“{quote}”</blockquote>'
            f'<div class="vb-meta">{_likely(answer.confidence)}</div><div class="vb-chips">{chips}</div>'
            f"{_differing(answer)}</div>")


def _likely(probability: float) -> str:
    """A calibrated probability as the chat and the Sources panel both say it: "62% likely to hold the answer"."""
    return f"{probability:.0%} likely to hold the answer"


def _differing(answer: rag.Answer) -> str:
    """When articles give different answers: each one's answer beside its outlet and date ("The Independent · 19 Dec
    2024: …; Reuters · 23 Jan 2025: …"), each a chip that opens its quote."""
    differing = [c for c in answer.citations if not c.agrees]
    if not differing:
        return ""
    sides = [c for c in answer.citations[:1] if c.span] + differing
    items = "".join(f'<li>{_chip(c.source, c.start, c.end, named(c.source, c.outlet, c.published), c.title)} '
                    f'<q>{html.escape(_shorten(c.span.text if c.span else c.quote, 120))}</q></li>' for c in sides)
    return f'<div class="vb-differ"><div class="vb-meta">The articles differ:</div><ul>{items}</ul></div>'


def render_passages(passages: list[rag.Passage]) -> str:
    if not passages:
        return '<div class="vb-meta">Ask a question: the passages it was answered from appear here, most likely answer first.</div>'
    return "".join(
        f'<div class="vb-passage" data-vb-target="{_target(p.source, p.start, p.end)}">'
        f'<div class="vb-meta"><span title="{html.escape(p.source, quote=True)}">#{rank} · {html.escape(named(p.source, p.outlet, p.published))}</span>{_reading(p)}</div>'
        f"{html.escape(_shorten(p.text, 320))}</div>"
        for rank, p in enumerate(passages, 1)
    )


def _reading(passage: rag.Passage) -> str:
    """What the reader found in a passage, as a person reads it: its answer there and how likely its quote is to hold
    the answer, the same probability, in the same words, as the chat shows for the answer it quotes."""
    if passage.answer is None:
        return '<span class="vb-reading">not read</span>'
    return (f'<span class="vb-reading">answer here: <q>{html.escape(_shorten(passage.answer, 40))}</q> · '
            f"{_likely(passage.probability)}</span>")


def render_article(document, start: int, end: int) -> str:
    """The whole article with the cited span highlighted (id vb-hit, scrolled into view)."""
    text = document.text
    start, end = max(0, min(start, len(text))), max(0, min(end, len(text)))
    body = f'{html.escape(text[:start])}<mark id="vb-hit">{html.escape(text[start:end])}</mark>{html.escape(text[end:])}'
    byline = " · ".join(html.escape(p) for p in (document.outlet, human_date(document.published), document.author) if p)
    link = (f' · <a href="{html.escape(document.url, quote=True)}" target="_blank" rel="noopener noreferrer">original</a>'
            if document.url and document.url.startswith(("http://", "https://")) else "")
    return (f'<div class="vb-article"><h3>{html.escape(document.title)}</h3>'
            f'<div class="vb-meta">{byline + " · " if byline else ""}{html.escape(document.id)}{link}</div>{body}</div>')


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


K_MESSAGE = f"k must be a whole number from 1 to {rag.pipeline.MAX_K}"
POLL_SECONDS = 1.0  # how often a page asks after the library change it started
CACHE_CLEANUP = (3600, 3600)  # Gradio deletes uploads never added after an hour (checked hourly), and all at shutdown


def whole_k(value) -> int:
    """k as the slider (5.0) or an API caller ("5") sends it, as an int; QA.ask checks its range."""
    if not isinstance(value, bool):
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            number = None
        if number is not None and number.is_integer():
            return int(number)
    raise rag.InvalidQuestionError(K_MESSAGE)


class ChatService:
    """The library and the QA opened on its current index. Library changes run one at a time and
    swap in the QA of the index they wrote, so the chat never goes back to an older index."""

    def __init__(self, library: Library, qa: rag.QA):
        self.library = library
        self.qa = qa
        self._lock = threading.Lock()

    def add(self, files: list[tuple[str, bytes]], on_progress=None) -> UploadResult:
        with self._lock:
            result, self.qa = self.library.add(files, on_progress=on_progress)
        return result

    def remove(self, doc_id: str) -> None:
        with self._lock:
            self.qa = self.library.remove(doc_id)

    def ask(self, question: str, k, retriever: str, history: list | None = None, filters: dict | None = None) -> rag.Answer:
        """`history`: the conversation's earlier answers (as `to_dict()`), oldest first, for follow-ups;
        `filters`: as `QA.ask` takes them."""
        return self.qa.ask(question, k=whole_k(k), retriever=retriever, history=history or None, filters=filters or None)

    def outlets(self) -> list[str]:
        """The outlets of the library's articles, for the Settings' filter."""
        return sorted({d.outlet for d in self.qa.store.documents() if d.outlet}, key=str.casefold)

    def document_ids(self) -> list[str]:
        return [d.id for d in self.qa.store.documents()]

    def library_rows(self) -> list[list]:
        """Newest first; undated articles last, by file."""
        documents = sorted(self.qa.store.documents(), key=lambda d: d.id)
        documents.sort(key=lambda d: d.published or "", reverse=True)
        return [[d.published or "", d.outlet or "", d.title, d.id, d.n_chunks] for d in documents]

    def stats(self) -> str:
        store = self.qa.store
        return f"**{store.n_documents}** articles · **{store.n_chunks}** chunks · model `{store.commit.model}`"


class LibraryJob:
    """A library change run in a background thread, so that the click returns at once; the page that started
    it polls its progress, then its outcome (a message). Questions meanwhile are answered from the current index."""

    def __init__(self, what: str, change):
        """`change(on_progress)` makes the change and returns the message that says how it went."""
        self.what = what
        self.outcome: str | None = None
        self._progress = ""
        self._started = time.monotonic()
        threading.Thread(target=self._run, args=(change,), name="verbatim-library", daemon=True).start()

    @property
    def finished(self) -> bool:
        return self.outcome is not None

    def status(self) -> str:
        if self.finished:
            return self.outcome
        return (f"⏳ {self.what}{self._progress} · {time.monotonic() - self._started:.0f} s "
                "(questions are answered from the current library meanwhile)")

    def _run(self, change) -> None:
        try:
            self.outcome = change(self._on_progress)
        except rag.RagError as exc:
            self.outcome = f"❌ {exc}"
        except Exception:
            log.exception("library change failed: %s", self.what)
            self.outcome = "❌ the change failed on the server (its log says why); the library is as it was"

    def _on_progress(self, done: int, total: int, _last: str) -> None:
        self._progress = f": {done} of {total} files done"


def busy_message(current: LibraryJob | None) -> str | None:
    """Why a page cannot start another library change yet (one at a time per page), or None."""
    if current is not None and not current.finished:
        return f"⏳ wait: {current.what} is still under way"
    return None


def take_uploads(files: list[dict], upload_folder: str) -> tuple[list[tuple[str, bytes]], list[str]]:
    """The uploaded files (Gradio's file data) as (original name, bytes); each is deleted from Gradio's upload
    folder once read, whether the library takes it or not. Names that could not be read are returned apart."""
    pairs, unreadable = [], []
    root = Path(upload_folder).resolve()
    for file in files:
        path = Path(file["path"]).resolve()
        name = file.get("orig_name") or path.name
        try:
            pairs.append((name, path.read_bytes()))
        except OSError:
            unreadable.append(name)
        _discard_upload(path, root)
    return pairs, unreadable


def _discard_upload(path: Path, root: Path) -> None:
    """Delete an uploaded file and its folder (Gradio makes one per content hash), only inside Gradio's upload folder."""
    if root not in path.parents:
        return
    path.unlink(missing_ok=True)
    if path.parent != root:
        with contextlib.suppress(OSError):  # not empty: the same content is waiting under another name
            path.parent.rmdir()


def upload_message(result: UploadResult, unreadable: list[str]) -> str:
    lines = [f"✅ added `{name}`" for name in result.added]
    lines += [f"❌ rejected `{name}`: {reason}" for name, reason in result.rejected]
    lines += [f"❌ rejected `{name}`: the upload was lost on the server; upload it again" for name in unreadable]
    return "\n\n".join(lines) or "Nothing to add."


def chat_filters(after: str | None, before: str | None, outlets: list[str] | None) -> dict | None:
    """The Settings' filters as `QA.ask` takes them (blank fields filter nothing)."""
    found = {"after": (after or "").strip(), "before": (before or "").strip(), "outlet": list(outlets or [])}
    return {key: value for key, value in found.items() if value} or None


def chat_reply(service: ChatService, message: str, history: list, answers: list | None, k, mode: str, filters: dict | None = None):
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
    except rag.RagError as exc:
        return history + [_warning(str(exc))], "", gr.skip(), answers
    except Exception:
        log.exception("question failed: %r", message)
        return history + [_warning("the question could not be answered: the server failed (its log says why)")], "", gr.skip(), answers
    history.append({"role": "assistant", "content": render_answer(answer, len(answers))})
    return history, "", render_passages(answer.passages), answers + [answer.to_dict()]


def _warning(text: str) -> dict:
    return {"role": "assistant", "content": f'<div class="vb-abstain">⚠️ {html.escape(text)}</div>'}


def answer_json(service: ChatService, question: str, k=5, retriever: str = rag.pipeline.DEFAULT_RETRIEVER,
                history: list | None = None, filters: dict | None = None) -> dict:
    """The /ask endpoint's answer; a RagError becomes a gr.Error, whose message API callers receive."""
    try:
        return service.ask(question, k, retriever, history, filters).to_dict()
    except rag.RagError as exc:
        raise gr.Error(str(exc)) from exc


def create_app(service: ChatService, access: Access | None = None) -> gr.Blocks:
    """The chat page; `access`: who may add and remove articles (default: anyone; questions are always open)."""
    access = access or Access()
    with gr.Blocks(title="Verbatim", delete_cache=CACHE_CLEANUP) as demo:
        gr.Markdown("# Verbatim\nAnswers are sentences quoted **verbatim** from the articles, each with its source file "
                    "and line. Click a citation to read it in the article.")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=320):
                chatbot = gr.Chatbot(label="Chat", height=480, elem_id="vb-chat", sanitize_html=False)
                with gr.Row():
                    question = gr.Textbox(placeholder="Ask a question about the articles…", show_label=False, scale=5,
                                          elem_id="vb-question", max_length=rag.pipeline.MAX_QUESTION_CHARS * 2)
                    send = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="vb-ask")
                    restart = gr.Button("New conversation", scale=1, min_width=80, elem_id="vb-new")
                gr.Examples(EXAMPLES, inputs=question, label="Try")
                with gr.Accordion("Settings", open=False):
                    k = gr.Slider(1, 20, value=5, step=1, label="Passages retrieved (k)", elem_id="vb-k")
                    retriever = gr.Radio(list(rag.RETRIEVERS), value=service.qa.retriever, label="Retrieval",
                                         info="hybrid = BM25 and embeddings fused; dense = embeddings; bm25 = words")
                    with gr.Row():
                        after = gr.Textbox(label="Published on or after", placeholder="YYYY-MM-DD", elem_id="vb-after")
                        before = gr.Textbox(label="Published before", placeholder="YYYY-MM-DD", elem_id="vb-before")
                    outlets = gr.Dropdown([], multiselect=True, label="Only these outlets", elem_id="vb-outlets",
                                          info="articles of unknown date or outlet are left out by these filters")
            with gr.Column(scale=2, min_width=300):
                with gr.Tabs(selected="sources") as tabs:
                    with gr.Tab("Sources", id="sources"):
                        passages = gr.HTML(render_passages([]), elem_id="vb-passages")
                    with gr.Tab("Article", id="article"):
                        article = gr.HTML('<div class="vb-meta">Click a citation or a passage to read the article here.</div>',
                                          elem_id="vb-article")
                    with gr.Tab("Library", id="library"):
                        stats = gr.Markdown(elem_id="vb-stats")
                        table = gr.Dataframe(headers=["date", "outlet", "title", "file", "chunks"], interactive=False, wrap=True,
                                             column_widths=["13%", "17%", "38%", "24%", "8%"], max_height=320, elem_id="vb-library")
                        changes = access.mode != "read-only"
                        if access.mode == "read-only":
                            gr.Markdown(access.refusal, elem_id="vb-read-only")
                        with gr.Row(visible=access.mode == "login"):
                            login_user = gr.Textbox(label="User", scale=2, elem_id="vb-user")
                            login_password = gr.Textbox(label="Password", type="password", scale=2, elem_id="vb-password")
                            login = gr.Button("Log in", scale=1, elem_id="vb-login")
                        if changes:  # read-only: no upload box at all, so nothing can be sent for the library
                            uploads = gr.File(file_count="multiple", file_types=[".txt", ".md", ".html", ".htm", ".pdf"],
                                              label=f"Add articles (.txt, .md, .html, .pdf; {MAX_UPLOAD_BYTES // 2**20} MB each)",
                                              elem_id="vb-upload")
                            add = gr.Button("Add to library", elem_id="vb-add")
                        status = gr.Markdown(elem_id="vb-status")
                        with gr.Row(visible=changes):
                            doomed = gr.Dropdown([], label="Remove an article", scale=3, elem_id="vb-remove-choice")
                            remove = gr.Button("Remove", variant="stop", scale=1, elem_id="vb-remove")
        open_target = gr.Textbox(elem_id="vb-open-target", elem_classes="vb-hidden", show_label=False, container=False)
        open_button = gr.Button("open", elem_id="vb-open-button", elem_classes="vb-hidden")
        job = gr.State(None)  # this page's library change under way, if any
        signed_in = gr.State(None)  # the user this browser session logged in as (kept on the server)
        answers = gr.State([])  # this conversation's answers (to_dict()), oldest first: what follow-ups are read against
        poll_timer = gr.Timer(POLL_SECONDS, active=False)

        def respond(message: str, history: list, earlier: list, k_value, mode: str, since: str, until: str, chosen: list):
            return chat_reply(service, message, history, earlier, k_value, mode, chat_filters(since, until, chosen))

        def open_article(target: str):
            source, start, end = (target or "").rsplit("|", 2) if (target or "").count("|") >= 2 else ("", "", "")
            try:
                span = int(start), int(end)
                document = service.qa.store.document(source)
            except (ValueError, KeyError):
                return gr.skip(), gr.skip()
            return render_article(document, *span), gr.Tabs(selected="article")

        def library_view():
            """Table, statistics, the remove choices and the outlets to filter by as the library is now (filled on each page load)."""
            return (service.library_rows(), service.stats(), gr.Dropdown(choices=service.document_ids(), value=None),
                    gr.Dropdown(choices=service.outlets()))

        def started(what: str, change) -> tuple:
            """Status, job and timer outputs of a library change just started in the background."""
            running = LibraryJob(what, change)
            return running.status(), running, gr.Timer(active=True)

        def log_in(user: str, password: str):
            if access.log_in(user, password):
                return user, f"Logged in as **{user}**: you can add and remove articles.", ""
            return None, "Wrong user or password.", ""

        def add_files(files: list[dict] | None, current: LibraryJob | None, user: str | None):
            if not access.allows(user):
                return access.refusal, gr.skip(), gr.skip(), None
            if not files:
                return "Choose one or more files first.", gr.skip(), gr.skip(), gr.skip()
            if busy_message(current):
                return busy_message(current), gr.skip(), gr.skip(), gr.skip()
            pairs, unreadable = take_uploads(files, uploads.GRADIO_CACHE)
            if not pairs:
                return upload_message(UploadResult(), unreadable), gr.skip(), gr.skip(), None

            def change(on_progress) -> str:
                return upload_message(service.add(pairs, on_progress), unreadable)
            return *started(f"indexing {len(pairs)} file(s)", change), None

        def remove_article(doc_id: str | None, current: LibraryJob | None, user: str | None):
            if not access.allows(user):
                return access.refusal, gr.skip(), gr.skip()
            if not doc_id:
                return "Choose an article to remove.", gr.skip(), gr.skip()
            if busy_message(current):
                return busy_message(current), gr.skip(), gr.skip()

            def change(_on_progress) -> str:
                service.remove(doc_id)
                return f"🗑️ removed `{doc_id}` (its file was moved to `{service.library.corpus_dir}/.removed/`)"
            return started(f"removing {doc_id}", change)

        def poll(current: LibraryJob | None):
            if current is None:
                return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.Timer(active=False)
            if not current.finished:
                return current.status(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return current.status(), *library_view(), gr.Timer(active=False)

        def api_ask(question: str, k: int = 5, retriever: str = rag.pipeline.DEFAULT_RETRIEVER, history: list | None = None,
                    filters: dict | None = None) -> dict:
            """Answer a question with a verbatim quote and its citations (JSON, as `Answer.to_dict()`; its "state" is
            "answered", "tentative": the quote may not answer, or "abstained": the articles do not answer); `history`:
            the conversation's earlier answers as this endpoint returned them, oldest first, for a follow-up;
            `filters`: {"after": "YYYY-MM-DD", "before": "YYYY-MM-DD", "outlet": [names]}, any of them."""
            return answer_json(service, question, k, retriever, history, filters)

        chat_inputs = [question, chatbot, answers, k, retriever, after, before, outlets]
        chat_outputs = [chatbot, question, passages, answers]
        restart.click(lambda: ([], "", render_passages([]), []), None, chat_outputs, api_visibility="private")
        question.submit(respond, chat_inputs, chat_outputs, api_visibility="private")
        send.click(respond, chat_inputs, chat_outputs, api_visibility="private")
        open_button.click(open_article, open_target, [article, tabs], api_visibility="private").then(
            None, js=SCROLL_TO_HIGHLIGHT)
        demo.load(library_view, None, [table, stats, doomed, outlets], api_visibility="private")
        # Raw file data (preprocess=False): its original name, and none of gr.File's own checks, which refuse a
        # file named ".txt" with an error toast and leave an empty temp file behind per file.
        if changes:
            add.click(add_files, [uploads, job, signed_in], [status, job, poll_timer, uploads], api_visibility="private", preprocess=False)
            remove.click(remove_article, [doomed, job, signed_in], [status, job, poll_timer], api_visibility="private")
        login.click(log_in, [login_user, login_password], [signed_in, status, login_password], api_visibility="private")
        poll_timer.tick(poll, job, [status, table, stats, doomed, outlets, poll_timer], api_visibility="private", show_progress="hidden")
        gr.api(api_ask, api_name="ask")

        def api_remove(doc_id: str, user: str = "", password: str = "") -> str:
            """Remove an article from the library (its file is moved to the corpus's .removed/): refused unless the
            server is open to changes or this user and password log in."""
            if not (access.mode == "open" or access.log_in(user, password)):
                raise gr.Error(access.refusal if access.mode == "read-only" else "Wrong or missing user and password: removal refused.")
            if doc_id not in service.document_ids():
                raise gr.Error(f"no article {doc_id!r} in the library")
            service.remove(doc_id)
            return f"removed {doc_id}"

        if changes:
            gr.api(api_remove, api_name="remove")
    return demo


def launch(demo: gr.Blocks, host: str, port: int, **options):
    """Serve with the page's CSS and JS; several users are answered at once, each in their own session. Gradio
    refuses an upload over the library's limit while it is received, before it fills its temp folder."""
    return demo.queue(default_concurrency_limit=8).launch(server_name=host, server_port=port, css=CSS, js=JS,
                                                          max_file_size=MAX_UPLOAD_BYTES, **options)


def main() -> None:
    parser = argparse.ArgumentParser(description="Verbatim web chat over a folder of articles.")
    parser.add_argument("--corpus", default=os.environ.get("VERBATIM_CORPUS", "data/articles"), help="articles folder (default: %(default)s)")
    parser.add_argument("--index-dir", default=os.environ.get("VERBATIM_INDEX_DIR", "index"), help="index folder (default: %(default)s)")
    parser.add_argument("--host", default=os.environ.get("VERBATIM_HOST", "127.0.0.1"), help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("VERBATIM_PORT", "7860")), help="port (default: %(default)s)")
    parser.add_argument("--reader", default=None, help="reader model folder (default: $VERBATIM_READER or models/reader)")
    locked = parser.add_mutually_exclusive_group()
    locked.add_argument("--auth", action="store_true",
                        help="adding and removing articles needs a login: users as user:HASH in $VERBATIM_AUTH (comma-separated) "
                             "or --auth-file; make HASH with: rag hash-password")
    locked.add_argument("--read-only", action="store_true", help="no one can add or remove articles here")
    parser.add_argument("--auth-file", default=None, metavar="FILE", help="user:HASH lines, for --auth")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="warning: %(message)s")
    library = Library(args.corpus, args.index_dir, reader=args.reader)
    try:
        access = Access.configured(login=args.auth, read_only=args.read_only, auth_file=args.auth_file)
        library.reader.load()
        qa = library.open(show_progress=True)
    except rag.RagError as exc:
        parser.exit(2, f"app.py: error: {exc}\n")
    print(f"index {args.index_dir}: {qa.report.summary()}; library changes: {access.mode}")
    launch(create_app(ChatService(library, qa), access), args.host, args.port)


if __name__ == "__main__":
    main()
