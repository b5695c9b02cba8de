"""Serving the chat page: the index of the corpus built or brought up to date, then the page on host:port."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from ..access import Access
from ..library import MAX_UPLOAD_BYTES, Library
from .assets import CSS, JS
from .page import create_app
from .service import ChatService


def launch(demo: gr.Blocks, host: str, port: int, **options):
    """Serve with the page's CSS and JS; several users are answered at once, each in their own session. Gradio
    refuses an upload over the library's limit while it is received, before it fills its temp folder."""
    return demo.queue(default_concurrency_limit=8).launch(
        server_name=host, server_port=port, css=CSS, js=JS, max_file_size=MAX_UPLOAD_BYTES, **options
    )


def serve(
    corpus: str | Path,
    index_dir: str | Path,
    host: str,
    port: int,
    reader: str | Path | None = None,
    access: Access | None = None,
) -> None:
    """Index what changed in `corpus` (with progress on the terminal), then serve the chat until interrupted,
    saying in one line where to open it."""
    access = access or Access()
    library = Library(corpus, index_dir, reader=reader)
    library.reader.load()
    qa = library.open(show_progress=True)
    print(f"index {index_dir}: {qa.report.summary()}; library changes: {access.mode}")
    demo = create_app(ChatService(library, qa), access)
    launch(demo, host, port, prevent_thread_lock=True, quiet=True)
    print(f"Verbatim is serving {corpus} at {demo.local_url.rstrip('/')}", flush=True)
    demo.block_thread()
