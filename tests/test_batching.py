"""Questions read at the same moment go through the reader as one batch (rag/batching.py), and each gets exactly
the reading it gets alone."""

import threading

import numpy as np
import pytest

from rag.batching import Batcher
from rag.errors import RagError
from rag.reader import Reader


def test_the_batcher_gives_each_caller_its_own_rows_and_columns():
    calls = []

    def model(inputs):
        calls.append(len(inputs["input_ids"]))
        return [inputs["input_ids"] * 10, inputs["attention_mask"] + 1]

    batcher = Batcher(model, wait_s=0.05)
    requests = [
        {
            "input_ids": np.full((rows, width), n, dtype=np.int64),
            "attention_mask": np.ones((rows, width), dtype=np.int64),
        }
        for n, (rows, width) in enumerate([(2, 5), (1, 9), (3, 4), (2, 7)], start=1)
    ]
    results = [None] * len(requests)

    def ask(i):
        results[i] = batcher.run(requests[i])

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) < len(requests) and sum(calls) == 8  # fewer model calls than callers, every row read once
    for request, (ids, mask) in zip(requests, results):
        assert np.array_equal(ids, request["input_ids"] * 10) and np.array_equal(mask, request["attention_mask"] + 1)


def test_an_error_in_the_model_reaches_every_caller_of_its_batch():
    def broken(inputs):
        raise RuntimeError("model failed")

    with pytest.raises(RuntimeError, match="model failed"):
        Batcher(broken).run({"input_ids": np.zeros((1, 3), dtype=np.int64)})


@pytest.mark.model
def test_a_batching_reader_reads_each_question_exactly_as_alone(qa):
    questions = ["Who is the Kremlin spokesperson?", "How many nuclear warheads does Russia have?", "Who won?"]
    passages = [p.text for p in qa.retrieve("Putin Trump talks Kremlin nuclear", k=5)]
    alone = Reader(precision="fp32")
    batching = Reader(batch=True)
    assert batching.running == "fp32"
    expected = {q: alone.run(q, passages) for q in questions}
    read = {}
    threads = [
        threading.Thread(target=lambda q=q: read.__setitem__(q, batching.run(q, passages))) for q in questions * 3
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for question in questions:
        got, want = read[question], expected[question]
        assert [(s.passage, s.start, s.end) for s in got.spans] == [(s.passage, s.start, s.end) for s in want.spans]
        assert np.allclose([s.probability for s in got.spans], [s.probability for s in want.spans], rtol=1e-5)


def test_int8_does_not_batch():
    with pytest.raises(RagError, match="cannot batch questions in int8"):
        Reader(precision="int8", batch=True)
