"""Serving the chat page: the index of the corpus built or brought up to date, then the page on host:port, alone
(Gradio's own server) or with the JSON API beside it (`api`: one uvicorn app, the API's routes and the page at /)."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
from starlette.middleware import Middleware

from ..access import Access
from ..library import MAX_UPLOAD_BYTES, Library
from ..service import ChatService
from .assets import CSS, JS
from .guard import UploadGuard
from .page import create_app

CONCURRENCY = 8  # questions answered at once, each user in their own session


def launch(demo: gr.Blocks, host: str, port: int, **options):
    """Serve with the page's CSS and JS; uploads are admitted by the page's gate before Gradio stores them, and one
    over the library's limit is refused while it is received."""
    return demo.queue(default_concurrency_limit=CONCURRENCY).launch(
        server_name=host,
        server_port=port,
        css=CSS,
        js=JS,
        max_file_size=MAX_UPLOAD_BYTES,
        app_kwargs={"middleware": [Middleware(UploadGuard, gate=demo.upload_gate)]},
        **options,
    )


def with_api(demo: gr.Blocks, service: ChatService, access: Access):
    """One app: the JSON API (rag/api) on the service the page uses, and the page mounted at /; both admit
    uploads by the page's gate."""
    from ..api import LocalBackend, create_api

    app = create_api(LocalBackend(service), access, demo.upload_gate)
    app.add_middleware(UploadGuard, gate=demo.upload_gate)
    demo.queue(default_concurrency_limit=CONCURRENCY)
    return gr.mount_gradio_app(app, demo, path="/", css=CSS, js=JS, max_file_size=MAX_UPLOAD_BYTES)


def serve(
    corpus: str | Path,
    index_dir: str | Path,
    host: str,
    port: int,
    reader: str | Path | None = None,
    access: Access | None = None,
    api: bool = False,
) -> None:
    """Index what changed in `corpus` (with progress on the terminal), then serve the chat (`api`: and the JSON API)
    until interrupted, saying in one line where to open it."""
    access = access or Access()
    library = Library(corpus, index_dir, reader=reader)
    library.reader.load()
    qa = library.open(show_progress=True)
    print(f"index {index_dir}: {qa.report.summary()}; library changes: {access.mode}")
    service = ChatService(library, qa)
    demo = create_app(service, access)
    if api:
        import uvicorn

        app = with_api(demo, service, access)
        print(f"Verbatim is serving {corpus} at http://{host}:{port} (API docs: /docs)", flush=True)
        uvicorn.run(app, host=host, port=port, log_level="warning")
        return
    launch(demo, host, port, prevent_thread_lock=True, quiet=True)
    print(f"Verbatim is serving {corpus} at {demo.local_url.rstrip('/')}", flush=True)
    demo.block_thread()
