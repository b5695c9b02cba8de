"""What the API answers, as JSON-ready dicts, from the QA of the moment: the same code in one process and in each
Ray Serve replica, so that both reply alike."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import asdict

from ..metadata import flattened
from ..pipeline import QA
from ..shards import partial_results


class Answering:
    """Questions, passages, articles and health from `qa()` (called each time: a library change swaps the QA)."""

    def __init__(self, qa: Callable[[], QA]):
        self.qa = qa

    def ask(
        self, question: str, k: int, retriever: str, history: list, filters: dict | None, abstain=True, partial=False
    ):
        qa = self.qa()
        with _tolerating(partial) as missing:
            answer = qa.ask(question, k, retriever, abstain=abstain, history=history or None, filters=filters)
            filtered = qa.filter_summary(filters)
        return answer.to_dict() | {"filtered": filtered, "missing_shards": missing}

    def retrieve(self, question: str, k: int, retriever: str, filters: dict | None, partial=False) -> dict:
        with _tolerating(partial) as missing:
            passages = self.qa().retrieve(question, k, retriever, filters)
        return {"passages": [flattened(asdict(p)) for p in passages], "missing_shards": missing}

    def articles(self) -> list[dict]:
        return [flattened(asdict(d)) for d in self.qa().store.documents()]

    def article(self, doc_id: str) -> dict:
        """KeyError when no article has this id."""
        document = asdict(self.qa().store.document(doc_id))
        return flattened(document) | {"pages": list(document["pages"]) if document["pages"] else None}

    def health(self) -> dict:
        qa = self.qa()
        return {
            "status": "ok",
            "model": qa.store.model,
            "reader": qa.answer_builder.reader.path.name,
            "reader_precision": qa.answer_builder.reader.running,
            "articles": qa.store.n_documents,
            "chunks": qa.store.n_chunks,
            "generation": qa.store.generations,
            "shards": len(qa.store.generations),
        }


def _tolerating(partial: bool):
    """`partial_results()` when partial results were asked for; else a shard that is down fails the question."""
    return partial_results() if partial else contextlib.nullcontext([])
