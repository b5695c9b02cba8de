"""The API's work done in this process, on the library and the QA that the web chat shares."""

from __future__ import annotations

from ..service import ChatService
from .answering import Answering


class LocalBackend(Answering):
    """Answers from the service's current QA; adds and removes articles through its library, one change at a time."""

    def __init__(self, service: ChatService):
        super().__init__(lambda: service.qa)
        self.service = service

    def add(self, files: list[tuple[str, bytes]]) -> dict:
        result = self.service.add(files)
        return {"added": result.added, "rejected": [{"name": n, "reason": r} for n, r in result.rejected]}

    def remove(self, doc_id: str) -> dict:
        """KeyError when no article has this id."""
        if doc_id not in self.service.document_ids():
            raise KeyError(doc_id)
        self.service.remove(doc_id)
        return {"removed": doc_id}
