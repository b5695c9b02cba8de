"""The segmented store: updates write only what changed, deletions, merges, IVF, and kill -9 at any moment."""

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import rag
from rag import segments
from rag.check import IndexChecker
from rag.indexing import Indexer
from rag.store import Commit, IndexStore, LiveSegment, merge_candidates, read_commit

QUESTIONS = [
    "Who is the Kremlin spokesperson?",
    "How many nuclear warheads does Russia possess?",
    "Why has Zelensky's presidential term been prolonged?",
]


def answers(index_dir):
    qa = rag.load(index_dir)
    return [(a.text, a.citations, round(a.confidence, 6)) for a in map(qa.ask, QUESTIONS)]


def test_an_update_writes_one_new_segment_and_leaves_the_others_untouched(corpus, tmp_path, embedder):
    index_dir = tmp_path / "index"
    Indexer(embedder).run(corpus, index_dir)
    [first] = read_commit(index_dir).segments
    before = {p: p.stat().st_mtime_ns for p in (index_dir / "segments" / first.name).rglob("*")}
    (corpus / "extra.txt").write_text("The lighthouse keeper of Port Ellen retired after forty years on Friday.")

    report = Indexer(embedder).run(corpus, index_dir)

    commit = read_commit(index_dir)
    assert report.added == ["extra.txt"] and report.chunks_embedded == 1
    assert [s.name for s in commit.segments][0] == first.name and commit.segments[1].chunks == 1
    assert commit.segments[1].offset == first.chunks and commit.previous == (first.name,)
    assert {p: p.stat().st_mtime_ns for p in (index_dir / "segments" / first.name).rglob("*")} == before
    assert "forty years" in rag.load(index_dir).ask("How long did the lighthouse keeper of Port Ellen work?").text


def test_optimize_merges_segments_purges_deletions_and_answers_the_same(corpus, tmp_path, embedder):
    index_dir = tmp_path / "index"
    Indexer(embedder).run(corpus, index_dir)
    (corpus / "extra.txt").write_text("The lighthouse keeper of Port Ellen retired after forty years on Friday.")
    (corpus / "003_11d5bc04a0aec479.txt").unlink()
    Indexer(embedder).run(corpus, index_dir)
    commit = read_commit(index_dir)
    assert len(commit.segments) == 2 and commit.segments[0].deleted == ("003_11d5bc04a0aec479.txt",)
    store = IndexStore.open(index_dir)
    live_chunks, documents = store.n_chunks, store.documents()
    before = answers(index_dir)

    Indexer(embedder).run(corpus, index_dir, optimize=True)

    [merged] = read_commit(index_dir).segments
    assert merged.deleted == () and merged.chunks == live_chunks and merged.documents == 5
    assert IndexStore.open(index_dir).documents() == documents
    assert [(text, [c.quote for c in cites]) for text, cites, _ in answers(index_dir)] == [
        (text, [c.quote for c in cites]) for text, cites, _ in before
    ]
    kept = {s.name for s in read_commit(index_dir).segments} | set(read_commit(index_dir).previous)
    assert {p.name for p in (index_dir / "segments").iterdir()} == kept


def test_the_merge_policy_merges_ten_segments_of_one_size_tier():
    def commit(sizes):
        return Commit(4, "m", 384, {}, segments=tuple(LiveSegment(f"s{i}", 0, n, 1) for i, n in enumerate(sizes)))

    assert merge_candidates(commit([5] * 9 + [50_000])) == []
    assert merge_candidates(commit([5] * 10 + [50_000])) == [f"s{i}" for i in range(10)]
    assert merge_candidates(commit([40] * 10 + [3] * 4)) == [f"s{i}" for i in range(10)]
    purged = Commit(
        4, "m", 384, {}, segments=(LiveSegment("a", 0, 90, 9, ("x", "y")), LiveSegment("b", 90, 90, 9, ("x", "y", "z")))
    )
    assert merge_candidates(purged) == ["b"]  # more than a quarter of its documents deleted: rewritten without them


def test_past_the_ann_threshold_a_segment_is_searched_through_ivf_with_the_exact_top_hits(
    corpus, tmp_path, embedder, monkeypatch
):
    monkeypatch.setattr(segments, "ANN_MIN_CHUNKS", 10)
    index_dir = tmp_path / "index"
    Indexer(embedder).run(corpus, index_dir)
    store = IndexStore.open(index_dir)
    [segment] = store.segments
    assert segment.ann is not None and segment.ann.ntotal == store.n_chunks
    for question in QUESTIONS:
        vector = embedder.run([question])[0]
        exact = np.argsort(-(np.asarray(segment.vectors) @ vector))[:5]
        assert [h.chunk_id for h in store.search(vector, 5)] == [int(i) for i in exact]
    assert answers(index_dir)[0][0].startswith("Kremlin spokesperson Dmitry Peskov")


CRASHING_WRITER = textwrap.dedent("""
    import os, sys, pathlib
    from rag.indexing import Indexer
    corpus, index_dir = pathlib.Path(sys.argv[1]), sys.argv[2]
    indexer = Indexer()
    indexer.embedder.model  # load before saying ready
    print("ready", flush=True)
    for n in range(1000):  # the notes are replaced whole, so that only the index can be caught half-written
        (corpus / ".note.tmp").write_text(f"Note {n}: the harbour bell rang {n} times at dawn.")
        os.replace(corpus / ".note.tmp", corpus / f"note-{n % 3}.txt")
        indexer.run(corpus, index_dir, optimize=n % 2 == 1)
""")


def test_kill_9_at_random_moments_leaves_the_last_commit_usable_and_the_next_run_cleans_up(corpus, tmp_path, embedder):
    index_dir = tmp_path / "index"
    Indexer(embedder).run(corpus, index_dir)
    script = tmp_path / "writer.py"
    script.write_text(CRASHING_WRITER)
    rng = random.Random(7)
    for _ in range(5):
        writer = subprocess.Popen(
            [sys.executable, str(script), str(corpus), str(index_dir)], stdout=subprocess.PIPE, text=True
        )
        assert writer.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.2, 2.5))
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
        store = IndexStore.open(index_dir)  # whatever the moment, the last commit opens whole
        assert store.n_documents >= 5 and store.search(embedder.run(["harbour bell"])[0], 3)
        assert rag.load(index_dir).ask(QUESTIONS[0]).text.startswith("Kremlin spokesperson Dmitry Peskov")
        assert IndexChecker().run(index_dir).ok

    report = Indexer(embedder).run(corpus, index_dir)

    commit = read_commit(index_dir)
    assert {p.name for p in (index_dir / "segments").iterdir()} == {s.name for s in commit.segments} | set(
        commit.previous
    )
    assert not (index_dir / "COMMIT.tmp").exists()
    files = len(list(corpus.glob("*.txt")))
    assert report.unchanged + len(report.added) + len(report.updated) == files > 5
    assert rag.load(index_dir).store.n_documents == files


@pytest.mark.parametrize("k, ann", [(1, False), (5, False), (5, True)])
def test_search_skips_deleted_chunks(corpus, tmp_path, embedder, monkeypatch, k, ann):
    if ann:
        monkeypatch.setattr(segments, "ANN_MIN_CHUNKS", 10)
    index_dir = tmp_path / "index"
    Indexer(embedder).run(corpus, index_dir)
    (corpus / "000_9cebef51757e5eed.txt").unlink()
    Indexer(embedder).run(corpus, index_dir)
    store = IndexStore.open(index_dir)
    assert (store.segments[0].ann is not None) == ann
    vector = embedder.run([QUESTIONS[0]])[0]
    hits = store.search(vector, k) + store.lexical(["kremlin", "spokesperson"], k)
    assert hits and all(c.doc_id != "000_9cebef51757e5eed.txt" for c in store.chunks([h.chunk_id for h in hits]))
