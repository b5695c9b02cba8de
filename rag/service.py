"""What the chat page calls, with no Gradio in it: questions asked of the current index, the library's articles,
and library changes (adding and removing articles) run one at a time in the background."""

from __future__ import annotations

import logging
import threading
import time

from .answers import Answer
from .errors import InvalidQuestionError, RagError
from .library import Library, UploadResult
from .pipeline import MAX_K, QA

log = logging.getLogger("verbatim.app")

K_MESSAGE = f"k must be a whole number from 1 to {MAX_K}"


def whole_k(value) -> int:
    """k as the slider (5.0) or an API caller ("5") sends it, as an int; QA.ask checks its range."""
    if not isinstance(value, bool):
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            number = None
        if number is not None and number.is_integer():
            return int(number)
    raise InvalidQuestionError(K_MESSAGE)


class ChatService:
    """The library and the QA opened on its current index. Library changes run one at a time and
    swap in the QA of the index they wrote, so the chat never goes back to an older index."""

    def __init__(self, library: Library, qa: QA):
        self.library = library
        self.qa = qa
        self._lock = threading.Lock()

    def add(self, files: list[tuple[str, bytes]], on_progress=None) -> UploadResult:
        """Store and index the files the library accepts (each refused one with its reason); `on_progress(done, total, name)`."""
        with self._lock:
            result, self.qa = self.library.add(files, on_progress=on_progress)
        return result

    def remove(self, doc_id: str) -> None:
        """Move the article's file to the corpus's .removed/ and answer from the index without it."""
        with self._lock:
            self.qa = self.library.remove(doc_id)

    def details(self, doc_id: str):
        """An article's details as they stand and those set (rag/details.py), as (Metadata, Metadata)."""
        return self.library.details(doc_id)

    def set_details(self, doc_id: str, **fields: str | None) -> None:
        """Set an article's details ("" clears one, None leaves it); the index re-labels it, embedding nothing."""
        with self._lock:
            self.qa = self.library.set_details(doc_id, **fields)

    def restore(self, doc_id: str) -> str:
        """Bring a removed article back from the corpus's .removed/ and index it again; the id it has now."""
        with self._lock:
            restored, self.qa = self.library.restore(doc_id)
        return restored

    def removal_choices(self) -> list[tuple[str, str]]:
        """(what a person reads: title, outlet, date and file; the article's id) for each article, by title."""
        documents = sorted(self.qa.store.documents(), key=lambda d: ((d.meta.title or d.id).casefold(), d.id))
        return [(_described(d), d.id) for d in documents]

    def ask(self, question: str, k, retriever: str, history: list | None = None, filters: dict | None = None) -> Answer:
        """`history`: the conversation's earlier answers (as `to_dict()`), oldest first, for follow-ups;
        `filters`: as `QA.ask` takes them."""
        return self.qa.ask(
            question, k=whole_k(k), retriever=retriever, history=history or None, filters=filters or None
        )

    def filter_summary(self, filters) -> str | None:
        """What `filters` (as `QA.ask` takes them) leave of the library: "Filtered to 2 of 5 articles: …"; None unfiltered."""
        return self.qa.filter_summary(filters)

    def outlets(self) -> list[str]:
        """The outlets of the library's articles, for the Settings' filter."""
        return sorted({d.meta.outlet for d in self.qa.store.documents() if d.meta.outlet}, key=str.casefold)

    def document_ids(self) -> list[str]:
        return [d.id for d in self.qa.store.documents()]

    def library_rows(self) -> list[list]:
        """Newest first; undated articles last, by file."""
        documents = sorted(self.qa.store.documents(), key=lambda d: d.id)
        documents.sort(key=lambda d: d.meta.published or "", reverse=True)
        return [[d.meta.published or "", d.meta.outlet or "", d.meta.title, d.id, d.n_chunks] for d in documents]

    def stats(self) -> str:
        store = self.qa.store
        return (
            f"**{store.n_documents}** articles, searched as **{store.n_chunks}** passages"
            f"<details><summary>details</summary>passages are the index's chunks; embedding model "
            f"`{store.model}`</details>"
        )


def _described(document) -> str:
    """An article as the Remove list names it: "Title — Outlet, 2024-12-19 (file.txt)"."""
    meta = document.meta
    where = ", ".join(p for p in (meta.outlet, meta.published) if p)
    return f"{meta.title or document.id}{' — ' + where if where else ''} ({document.id})"


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
        """The outcome once finished, else what is under way and for how long."""
        if self.finished:
            return self.outcome
        return (
            f"Under way: {self.what}{self._progress} · {time.monotonic() - self._started:.0f} s "
            "(questions are answered from the current library meanwhile)"
        )

    def _run(self, change) -> None:
        try:
            self.outcome = change(self._on_progress)
        except RagError as exc:
            self.outcome = f"Failed: {exc}"
        except Exception:
            log.exception("library change failed: %s", self.what)
            self.outcome = "The change failed on the server (its log says why); the library is as it was"

    def _on_progress(self, done: int, total: int, _last: str) -> None:
        self._progress = f": {done} of {total} files done"


def busy_message(current: LibraryJob | None) -> str | None:
    """Why a page cannot start another library change yet (one at a time per page), or None."""
    if current is not None and not current.finished:
        return f"Wait: {current.what} is still under way"
    return None
