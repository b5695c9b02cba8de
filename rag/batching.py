"""Questions that arrive together read in one model call: the reader's equivalent of Ray Serve's `@serve.batch`,
for threads (the question's path is synchronous, in one process or in a Serve replica alike).

The first question to arrive leads: it waits `wait_s` for others, runs up to `max_questions` of them as one batch
(their windows padded to one width) and hands the lead to the next waiting question, if any. Each gets exactly its
own rows and columns back."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np

Arrays = dict[str, np.ndarray]


class _Waiting:
    def __init__(self, inputs: Arrays):
        self.inputs = inputs
        self.outputs: list[np.ndarray] | None = None
        self.error: BaseException | None = None
        self.leads = False
        self.woken = threading.Event()


class Batcher:
    """Runs `model(inputs) -> outputs` (arrays of rows × positions) for several callers at once."""

    def __init__(self, model: Callable[[Arrays], list[np.ndarray]], wait_s: float = 0.002, max_questions: int = 8):
        self.model = model
        self.wait_s = wait_s
        self.max_questions = max_questions
        self._waiting: list[_Waiting] = []
        self._running = False
        self._lock = threading.Lock()

    def run(self, inputs: Arrays) -> list[np.ndarray]:
        mine = _Waiting(inputs)
        with self._lock:
            self._waiting.append(mine)
            mine.leads = not self._running
            self._running = True
        if not mine.leads:
            mine.woken.wait()
        if mine.outputs is None and mine.error is None:  # woken to lead
            time.sleep(self.wait_s)
            self._lead()
        if mine.error is not None:
            raise mine.error
        return mine.outputs

    def _lead(self) -> None:
        with self._lock:
            batch, self._waiting = self._waiting[: self.max_questions], self._waiting[self.max_questions :]
        try:
            outputs = self.model(_padded([w.inputs for w in batch]))
            for waiting, rows in zip(batch, _split(outputs, [w.inputs for w in batch])):
                waiting.outputs = rows
        except BaseException as exc:
            for waiting in batch:
                waiting.error = exc
        with self._lock:
            successor = self._waiting[0] if self._waiting else None
            self._running = successor is not None
        for waiting in batch:
            waiting.woken.set()
        if successor is not None:
            successor.woken.set()


def _padded(requests: list[Arrays]) -> Arrays:
    """The requests' arrays stacked row-wise, each padded with zeros (no token, no attention) to the widest."""
    width = max(next(iter(r.values())).shape[1] for r in requests)
    return {
        name: np.concatenate([np.pad(r[name], ((0, 0), (0, width - r[name].shape[1]))) for r in requests])
        for name in requests[0]
    }


def _split(outputs: list[np.ndarray], requests: list[Arrays]) -> list[list[np.ndarray]]:
    """Each request's own rows and columns of the batch's outputs."""
    parts, row = [], 0
    for request in requests:
        rows, width = next(iter(request.values())).shape
        parts.append([out[row : row + rows, :width] for out in outputs])
        row += rows
    return parts
