"""The chat page in Gradio: its layout (the chat and its Settings; the Sources, Article and Library panels), the
events that connect it to the service, and the /ask and /remove API endpoints."""

from __future__ import annotations

import gradio as gr

from ..access import Access
from ..admission import PASS_COOKIE, UploadGate
from ..errors import RagError
from ..library import MAX_UPLOAD_BYTES, UploadResult
from ..pipeline import MAX_QUESTION_CHARS
from ..retrieval import DEFAULT_RETRIEVER, RETRIEVERS
from ..service import ChatService, LibraryJob, busy_message
from .assets import SCROLL_TO_HIGHLIGHT
from .chat import answer_json, filtered_reply
from .copying import COPY_JS
from .export import COPY_CONVERSATION_JS, DOWNLOAD_JS, conversation_export, empty_chat
from .render import render_article, render_passages
from .uploads import take_uploads, upload_message

EXAMPLES = [  # each is answered from the shipped articles, but those in REFUSALS, which show a refusal
    "In which city did Trump address the World Economic Forum?",
    "When did Putin initiate the invasion of Ukraine?",
    "Which region did Ukrainian forces enter in August?",
    "How long has Putin not spoken to Trump?",
    "How many nuclear warheads does Russia possess?",
]
REFUSALS = {"How many nuclear warheads does Russia possess?"}
REFUSAL_LABEL = "Refusal: "  # before the question: Gradio cuts an example's label after 60 characters
INTRO = (
    "# Verbatim\nAnswers are sentences quoted **verbatim** from the articles, each with where it stands (outlet, "
    "date and line where known). Click a citation to read it in the article."
)
POLL_SECONDS = 1.0  # how often a page asks after the library change it started
CACHE_CLEANUP = (3600, 3600)  # Gradio deletes uploads never added after an hour (checked hourly), and all at shutdown


class Page:
    """The components that events read or write; the layout functions below set them as they build the page."""

    chatbot: gr.Chatbot
    examples: gr.Examples
    download: gr.Button
    copy_all: gr.Button
    export_text: gr.Textbox  # hidden: the conversation as Markdown, which the download saves
    question: gr.Textbox
    send: gr.Button
    restart: gr.Button
    k: gr.Slider
    retriever: gr.Radio
    after: gr.Textbox
    before: gr.Textbox
    outlets: gr.Dropdown
    tabs: gr.Tabs
    passages: gr.HTML
    article: gr.HTML
    stats: gr.Markdown
    table: gr.Dataframe
    login_user: gr.Textbox
    login_password: gr.Textbox
    login: gr.Button
    uploads: gr.File  # absent when read-only
    add: gr.Button  # absent when read-only
    status: gr.Markdown
    doomed: gr.Dropdown
    remove: gr.Button
    confirm_row: gr.Row  # "Yes, remove" and "Cancel", shown after Remove is pressed
    confirm_remove: gr.Button
    cancel_remove: gr.Button
    undo: gr.Button  # brings back the article this page removed last
    removed_last: gr.State  # the id of the article this page removed last
    open_target: gr.Textbox
    open_button: gr.Button
    job: gr.State  # this page's library change under way, if any
    signed_in: gr.State  # the user this browser session logged in as (kept on the server)
    upload_pass: gr.Textbox  # hidden: the pass a login gives, set as a cookie for Gradio's upload route (web/guard.py)
    answers: gr.State  # this conversation's answers (to_dict()), oldest first: what follow-ups are read against
    poll_timer: gr.Timer
    details_choice: gr.Dropdown  # the article details form (absent when read-only)
    details_fields: list[gr.Textbox]
    details_save: gr.Button


def create_app(service: ChatService, access: Access | None = None, gate: UploadGate | None = None) -> gr.Blocks:
    """The chat page; `access`: who may add and remove articles (default: anyone; questions are always open);
    `gate`: the uploads the server admits (its passes are given to the pages that log in); kept as
    `demo.upload_gate` for the server that launches the page."""
    access = access or Access()
    gate = gate or UploadGate.configured(access, MAX_UPLOAD_BYTES)
    page = Page()
    with gr.Blocks(title="Verbatim", delete_cache=CACHE_CLEANUP) as demo:
        gr.Markdown(INTRO)
        with gr.Row(equal_height=False, elem_id="vb-main"):
            with gr.Column(scale=3, min_width=320, elem_id="vb-chat-column"):
                _chat_column(page, service)
            with gr.Column(scale=2, min_width=300, elem_id="vb-panels"):
                _panels(page, access)
        _hidden(page)
        _connect_chat(page, service)
        _connect_library(demo, page, service, access, gate)
        _add_api(service, access)
        demo.load(None, js=COPY_JS)
    demo.upload_gate = gate
    return demo


def _chat_column(page: Page, service: ChatService) -> None:
    """The chat, the question box with its buttons, the examples, and the Settings."""
    page.chatbot = gr.Chatbot(
        label="Chat",
        height=480,
        elem_id="vb-chat",
        sanitize_html=False,
        buttons=[],  # Gradio's copy buttons copy HTML: each answer has its own "Copy answer" (rag/web/copying.py)
        placeholder=empty_chat(service.qa.store.documents()),
    )
    with gr.Row(elem_id="vb-ask-row"):
        page.question = gr.Textbox(
            placeholder="Ask a question about the articles…",
            show_label=False,
            scale=5,
            elem_id="vb-question",
            max_length=MAX_QUESTION_CHARS * 2,
        )
        page.send = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="vb-ask")
        page.restart = gr.Button("New conversation", scale=1, min_width=80, elem_id="vb-new")
    with gr.Column(elem_id="vb-examples"):
        page.examples = gr.Examples(
            EXAMPLES,
            inputs=page.question,
            label="Try (click to ask; a refusal shows what happens when the articles do not answer)",
            example_labels=[(REFUSAL_LABEL if q in REFUSALS else "") + q for q in EXAMPLES],
        )
    with gr.Row():
        page.download = gr.Button(
            "Download conversation (Markdown)", interactive=False, size="sm", elem_id="vb-download"
        )
        page.copy_all = gr.Button("Copy conversation (Markdown)", interactive=False, size="sm", elem_id="vb-copy-all")
    page.export_text = gr.Textbox(
        elem_id="vb-export-text", elem_classes="vb-hidden", show_label=False, container=False, interactive=False
    )
    with gr.Accordion("Settings", open=False, elem_id="vb-settings"):
        page.k = gr.Slider(1, 20, value=5, step=1, label="How many passages to read for an answer", elem_id="vb-k")
        with gr.Accordion("Advanced: how passages are found", open=False, elem_id="vb-advanced"):
            page.retriever = gr.Radio(
                list(RETRIEVERS),
                value=service.qa.retriever,
                label="Search method",
                info="hybrid = BM25 and embeddings fused; dense = embeddings; bm25 = words",
            )
        with gr.Row():
            page.after = gr.Textbox(label="Published on or after", placeholder="e.g. 1 Jan 2025", elem_id="vb-after")
            page.before = gr.Textbox(label="Published before", placeholder="e.g. 1 Jan 2025", elem_id="vb-before")
        page.outlets = gr.Dropdown(
            [],
            multiselect=True,
            label="Only these outlets",
            elem_id="vb-outlets",
            info="articles of unknown date or outlet are left out by these filters",
        )


def _panels(page: Page, access: Access) -> None:
    """The tabs beside the chat: the Sources of the last answer, the Article a citation opens, the Library."""
    with gr.Tabs(selected="sources") as page.tabs:
        with gr.Tab("Sources", id="sources"):
            page.passages = gr.HTML(render_passages([]), elem_id="vb-passages")
        with gr.Tab("Article", id="article"):
            page.article = gr.HTML(
                '<div class="vb-meta">Click a citation or a passage to read the article here.</div>',
                elem_id="vb-article",
            )
        with gr.Tab("Library", id="library"):
            _library_tab(page, access)


def _library_tab(page: Page, access: Access) -> None:
    """The articles as a table, the login, the upload box and the removal; read-only: no upload box at all, so
    nothing can be sent for the library."""
    page.stats = gr.Markdown(elem_id="vb-stats")
    page.table = gr.Dataframe(
        headers=["date", "outlet", "title", "file", "passages"],
        interactive=False,
        wrap=True,
        column_widths=["16%", "16%", "31%", "15%", "22%"],
        max_height=720,
        elem_id="vb-library",
    )
    changes = access.mode != "read-only"
    if not changes:
        gr.Markdown(access.refusal, elem_id="vb-read-only")
    with gr.Row(visible=access.mode == "login"):
        page.login_user = gr.Textbox(label="User", scale=2, elem_id="vb-user")
        page.login_password = gr.Textbox(label="Password", type="password", scale=2, elem_id="vb-password")
        page.login = gr.Button("Log in", scale=1, elem_id="vb-login")
    if changes:
        page.uploads = gr.File(
            file_count="multiple",
            file_types=[".txt", ".md", ".html", ".htm", ".pdf"],
            label=f"Add articles (.txt, .md, .html, .pdf; {MAX_UPLOAD_BYTES // 2**20} MB each)",
            elem_id="vb-upload",
        )
        page.add = gr.Button("Add to library", elem_id="vb-add")
    page.status = gr.Markdown(elem_id="vb-status")
    with gr.Row(visible=changes):
        page.doomed = gr.Dropdown([], label="Remove an article", scale=3, elem_id="vb-remove-choice")
        page.remove = gr.Button("Remove…", variant="stop", scale=1, elem_id="vb-remove")
    _removal_steps(page)
    if changes:
        _details_form(page)


def _removal_steps(page: Page) -> None:
    """Remove asks first ("Yes, remove" or "Cancel"); once removed, Undo brings the article back."""
    with gr.Row(visible=False, elem_id="vb-confirm") as page.confirm_row:
        page.confirm_remove = gr.Button("Yes, remove", variant="stop", scale=1, elem_id="vb-remove-yes")
        page.cancel_remove = gr.Button("Cancel", scale=1, elem_id="vb-remove-cancel")
    page.undo = gr.Button("Undo: bring the article back", visible=False, elem_id="vb-undo")
    page.removed_last = gr.State(None)


DETAIL_LABELS = {
    "title": "Title",
    "outlet": "Outlet",
    "published": "Date (YYYY-MM-DD)",
    "author": "Author",
    "url": "URL",
}


def _details_form(page: Page) -> None:
    """Setting what an article's text does not state: its title, outlet, date, author and URL."""
    with gr.Accordion("Article details", open=False, elem_id="vb-details"):
        page.details_choice = gr.Dropdown([], label="Article", elem_id="vb-details-choice")
        page.details_fields = [
            gr.Textbox(label=label, placeholder="unknown", elem_id=f"vb-details-{name}")
            for name, label in DETAIL_LABELS.items()
        ]
        gr.Markdown(
            "What the article states is filled in; set what it does not. An empty box clears what was set. "
            "Kept beside the articles, so a rebuild keeps them.",
            elem_classes="vb-meta",
        )
        page.details_save = gr.Button("Save details", elem_id="vb-details-save")


PASS_JS = f"(token) => {{ if (token) document.cookie = '{PASS_COOKIE}=' + token + '; path=/; SameSite=Strict'; }}"


def _hidden(page: Page) -> None:
    """What the page keeps out of sight: the box and button a citation click goes through (see assets.JS), the
    session's state and the timer that polls a library change."""
    page.open_target = gr.Textbox(elem_id="vb-open-target", elem_classes="vb-hidden", show_label=False, container=False)
    page.open_button = gr.Button("open", elem_id="vb-open-button", elem_classes="vb-hidden")
    page.job = gr.State(None)
    page.signed_in = gr.State(None)
    page.upload_pass = gr.Textbox(elem_id="vb-pass", elem_classes="vb-hidden", show_label=False, container=False)
    page.answers = gr.State([])
    page.poll_timer = gr.Timer(POLL_SECONDS, active=False)


def _connect_chat(page: Page, service: ChatService) -> None:
    """Asking (with the conversation so far and the Settings), a new conversation, and opening a cited article."""

    def respond(message: str, history: list, earlier: list, k_value, mode: str, since: str, until: str, chosen: list):
        return filtered_reply(service, message, history, earlier, k_value, mode, since, until, chosen)

    def open_article(target: str):
        """The Article tab showing the article a chip or passage points to ("source|start|end"); else no change."""
        source, start, end = (target or "").rsplit("|", 2) if (target or "").count("|") >= 2 else ("", "", "")
        try:
            span = int(start), int(end)
            document = service.qa.store.document(source)
        except (ValueError, KeyError):
            return gr.skip(), gr.skip()
        return render_article(document, *span), gr.Tabs(selected="article")

    chat_inputs = [
        page.question,
        page.chatbot,
        page.answers,
        page.k,
        page.retriever,
        page.after,
        page.before,
        page.outlets,
    ]
    chat_outputs = [page.chatbot, page.question, page.passages, page.answers]
    asked = [
        page.restart.click(lambda: ([], "", render_passages([]), []), None, chat_outputs, api_visibility="private"),
        page.question.submit(respond, chat_inputs, chat_outputs, api_visibility="private"),
        page.send.click(respond, chat_inputs, chat_outputs, api_visibility="private"),
        page.examples.load_input_event.then(respond, chat_inputs, chat_outputs, api_visibility="private"),
        # Gradio's trash button starts a new conversation too: the answers follow-ups are read against go.
        page.chatbot.clear(lambda: ([], "", render_passages([]), []), None, chat_outputs, api_visibility="private"),
    ]
    for event in asked:  # the conversation to download, as it is now
        event.then(
            conversation_export,
            page.answers,
            [page.export_text, page.download, page.copy_all],
            api_visibility="private",
            show_progress="hidden",
        )
    page.download.click(None, js=DOWNLOAD_JS)
    page.copy_all.click(None, js=COPY_CONVERSATION_JS)
    page.open_button.click(open_article, page.open_target, [page.article, page.tabs], api_visibility="private").then(
        None, js=SCROLL_TO_HIGHLIGHT
    )


def _connect_library(demo: gr.Blocks, page: Page, service: ChatService, access: Access, gate: UploadGate) -> None:
    """The Library panel filled on each page load and after each change; the login; adding and removing."""

    def library_view():
        """Table, statistics, the remove choices and the outlets to filter by as the library is now."""
        return (
            service.library_rows(),
            service.stats(),
            gr.Dropdown(choices=service.removal_choices(), value=None),
            gr.Dropdown(choices=service.outlets()),
        )

    def log_in(user: str, password: str):
        if access.log_in(user, password):
            return user, f"Logged in as **{user}**: you can add and remove articles.", "", gate.issue_pass()
        return None, "Wrong user or password.", "", ""

    def poll(current: LibraryJob | None):
        """The change's progress; once it is finished, its outcome and the library as it is now, and the timer stops."""
        if current is None:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.Timer(active=False)
        if not current.finished:
            return current.status(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        return current.status(), *library_view(), gr.Timer(active=False)

    demo.load(library_view, None, [page.table, page.stats, page.doomed, page.outlets], api_visibility="private")
    page.table.change(  # the library changed: the empty chat says what it holds now
        lambda: gr.Chatbot(placeholder=empty_chat(service.qa.store.documents())),
        None,
        page.chatbot,
        api_visibility="private",
        show_progress="hidden",
    )
    if access.mode != "read-only":
        _connect_changes(page, service, access)
        _connect_details(demo, page, service, access)
    page.login.click(
        log_in,
        [page.login_user, page.login_password],
        [page.signed_in, page.status, page.login_password, page.upload_pass],
        api_visibility="private",
    ).then(None, page.upload_pass, None, js=PASS_JS)
    page.poll_timer.tick(
        poll,
        page.job,
        [page.status, page.table, page.stats, page.doomed, page.outlets, page.poll_timer],
        api_visibility="private",
        show_progress="hidden",
    )


def _connect_changes(page: Page, service: ChatService, access: Access) -> None:
    """Adding uploaded files and removing an article, each started in the background for the timer to poll."""

    def started(what: str, change) -> tuple:
        """Status, job and timer outputs of a library change just started in the background."""
        running = LibraryJob(what, change)
        return running.status(), running, gr.Timer(active=True)

    def add_files(files: list[dict] | None, current: LibraryJob | None, user: str | None):
        """Status, job, timer and the cleared upload box: the uploads are read at once, then indexed in the background."""
        if not access.allows(user):
            return access.refusal, gr.skip(), gr.skip(), None
        if not files:
            return "Choose one or more files first.", gr.skip(), gr.skip(), gr.skip()
        if busy_message(current):
            return busy_message(current), gr.skip(), gr.skip(), gr.skip()
        pairs, unreadable = take_uploads(files, page.uploads.GRADIO_CACHE)
        if not pairs:
            return upload_message(UploadResult(), unreadable), gr.skip(), gr.skip(), None

        def change(on_progress) -> str:
            return upload_message(service.add(pairs, on_progress), unreadable)

        return *started(f"indexing {len(pairs)} file(s)", change), None

    def ask_to_remove(doc_id: str | None, current: LibraryJob | None, user: str | None):
        """Status and the confirmation row: what would be removed, asked before anything is."""
        refused = _removal_refused(doc_id, current, user)
        if refused:
            return refused, gr.Row(visible=False)
        return f"Remove `{doc_id}` from the library? Undo can bring it back.", gr.Row(visible=True)

    def remove_article(doc_id: str | None, current: LibraryJob | None, user: str | None):
        """Status, job, timer, confirmation row, Undo button and the removed id: the chosen article removed in the
        background, if this user may."""
        refused = _removal_refused(doc_id, current, user)
        if refused:
            return refused, gr.skip(), gr.skip(), gr.Row(visible=False), gr.skip(), gr.skip()

        def change(_on_progress) -> str:
            service.remove(doc_id)
            return (
                f"Removed `{doc_id}` (its file was moved to `.removed/` in the articles folder): Undo brings it back."
            )

        return *started(f"removing {doc_id}", change), gr.Row(visible=False), gr.Button(visible=True), doc_id

    def restore_article(doc_id: str | None, current: LibraryJob | None, user: str | None):
        """Status, job, timer, Undo button and the removed id: the article removed last brought back and indexed."""
        if not access.allows(user):
            return access.refusal, gr.skip(), gr.skip(), gr.skip(), gr.skip()
        if not doc_id:
            return "Nothing to undo.", gr.skip(), gr.skip(), gr.Button(visible=False), None
        if busy_message(current):
            return busy_message(current), gr.skip(), gr.skip(), gr.skip(), gr.skip()

        def change(_on_progress) -> str:
            return f"Brought back `{service.restore(doc_id)}`."

        return *started(f"bringing back {doc_id}", change), gr.Button(visible=False), None

    def _removal_refused(doc_id: str | None, current: LibraryJob | None, user: str | None) -> str | None:
        if not access.allows(user):
            return access.refusal
        if not doc_id:
            return "Choose an article to remove."
        return busy_message(current)

    # Raw file data (preprocess=False): its original name, and none of gr.File's own checks, which refuse a
    # file named ".txt" with an error toast and leave an empty temp file behind per file.
    page.add.click(
        add_files,
        [page.uploads, page.job, page.signed_in],
        [page.status, page.job, page.poll_timer, page.uploads],
        api_visibility="private",
        preprocess=False,
    )
    page.remove.click(
        ask_to_remove,
        [page.doomed, page.job, page.signed_in],
        [page.status, page.confirm_row],
        api_visibility="private",
    )
    page.confirm_remove.click(
        remove_article,
        [page.doomed, page.job, page.signed_in],
        [page.status, page.job, page.poll_timer, page.confirm_row, page.undo, page.removed_last],
        api_visibility="private",
    )
    page.cancel_remove.click(
        lambda: ("Nothing was removed.", gr.Row(visible=False)),
        None,
        [page.status, page.confirm_row],
        api_visibility="private",
    )
    page.undo.click(
        restore_article,
        [page.removed_last, page.job, page.signed_in],
        [page.status, page.job, page.poll_timer, page.undo, page.removed_last],
        api_visibility="private",
    )


def _connect_details(demo: gr.Blocks, page: Page, service: ChatService, access: Access) -> None:
    """The article details form: choosing an article fills it in; saving sets what changed and refreshes the table."""

    def choices():
        return gr.Dropdown(choices=service.document_ids())

    def fill(doc_id: str | None):
        if not doc_id:
            return [""] * len(DETAIL_LABELS)
        try:
            meta, _ = service.details(doc_id)
        except RagError as exc:
            gr.Warning(str(exc))
            return [gr.skip()] * len(DETAIL_LABELS)
        return [value or "" for value in meta.astuple()]

    def save(doc_id: str | None, current: LibraryJob | None, user: str | None, *values: str):
        """Status, table, outlets filter: the changed details set (a synchronous change: nothing is embedded)."""
        if not access.allows(user):
            return access.refusal, gr.skip(), gr.skip()
        if not doc_id:
            return "Choose an article first.", gr.skip(), gr.skip()
        if busy_message(current):
            return busy_message(current), gr.skip(), gr.skip()
        try:
            stated, _ = service.details(doc_id)
            fields = {
                name: (value or "").strip()
                for name, value, now in zip(DETAIL_LABELS, values, stated.astuple())
                if (value or "").strip() != (now or "")
            }
            if not fields:
                return f"No details of `{doc_id}` changed.", gr.skip(), gr.skip()
            service.set_details(doc_id, **fields)
        except RagError as exc:
            return f"Not saved: {exc}", gr.skip(), gr.skip()
        return (
            f"Saved the details of `{doc_id}`: " + ", ".join(fields),
            service.library_rows(),
            gr.Dropdown(choices=service.outlets()),
        )

    demo.load(choices, None, page.details_choice, api_visibility="private")
    page.table.change(choices, None, page.details_choice, api_visibility="private")
    page.details_choice.change(fill, page.details_choice, page.details_fields, api_visibility="private")
    page.details_save.click(
        save,
        [page.details_choice, page.job, page.signed_in, *page.details_fields],
        [page.status, page.table, page.outlets],
        api_visibility="private",
    ).then(fill, page.details_choice, page.details_fields, api_visibility="private")


def _add_api(service: ChatService, access: Access) -> None:
    """The named endpoints for `gradio_client`: /ask always; /remove unless the library is read-only."""

    def api_ask(
        question: str,
        k: int = 5,
        retriever: str = DEFAULT_RETRIEVER,
        history: list | None = None,
        filters: dict | None = None,
    ) -> dict:
        """Answer a question with a verbatim quote and its citations (JSON, as `Answer.to_dict()`; its "state" is
        "answered", "tentative": the quote may not answer, or "abstained": the articles do not answer); `history`:
        the conversation's earlier answers as this endpoint returned them, oldest first, for a follow-up;
        `filters`: {"after": "YYYY-MM-DD", "before": "YYYY-MM-DD", "outlet": [names]}, any of them."""
        return answer_json(service, question, k, retriever, history, filters)

    def api_remove(doc_id: str, user: str = "", password: str = "") -> str:
        """Remove an article from the library (its file is moved to the corpus's .removed/): refused unless the
        server is open to changes or this user and password log in."""
        if not (access.mode == "open" or access.log_in(user, password)):
            raise gr.Error(
                access.refusal if access.mode == "read-only" else "Wrong or missing user and password: removal refused."
            )
        if doc_id not in service.document_ids():
            raise gr.Error(f"no article {doc_id!r} in the library")
        service.remove(doc_id)
        return f"removed {doc_id}"

    def api_details(
        doc_id: str,
        title: str | None = None,
        outlet: str | None = None,
        published: str | None = None,
        author: str | None = None,
        url: str | None = None,
        user: str = "",
        password: str = "",
    ) -> dict:
        """Set an article's details where its text does not state them ("" clears what was set, None leaves it;
        `published` as YYYY-MM-DD) and return them as they now stand; refused as /remove is."""
        if not (access.mode == "open" or access.log_in(user, password)):
            raise gr.Error(
                access.refusal if access.mode == "read-only" else "Wrong or missing user and password: change refused."
            )
        if doc_id not in service.document_ids():
            raise gr.Error(f"no article {doc_id!r} in the library")
        fields = dict(title=title, outlet=outlet, published=published, author=author, url=url)
        try:
            service.set_details(doc_id, **fields)
            meta, _ = service.details(doc_id)
        except RagError as exc:
            raise gr.Error(str(exc)) from exc
        return dict(zip(DETAIL_LABELS, meta.astuple()))

    gr.api(api_ask, api_name="ask")
    if access.mode != "read-only":
        gr.api(api_remove, api_name="remove")
        gr.api(api_details, api_name="details")
