"""An index sharded by article (rag/shards.py), built and read on the real model and real indexes on disk."""

import shutil
import subprocess
import sys

import numpy as np
import pytest
from conftest import ARTICLES, SHIPPED, sharded_copy

import rag
from rag.errors import CorpusError, IndexIncompatibleError
from rag.indexing import Indexer
from rag.shards import ShardedIndexer, ShardedStore, ShardUnavailableError, partial_results, shard_dirs, shard_of
from rag.store import IndexStore


@pytest.fixture(scope="module")
def sharded(tmp_path_factory, embedder):
    """The shipped articles in a 2-shard index, built by `rag index --shards 2`."""
    root = tmp_path_factory.mktemp("sharded")
    sharded_copy(root)
    return root


def test_an_article_belongs_to_one_shard_by_its_id_the_same_everywhere():
    assert [shard_of(doc_id, 2) for doc_id in SHIPPED] == [0, 0, 1, 1, 1]
    assert [shard_of(doc_id, 3) for doc_id in SHIPPED] == [shard_of(doc_id, 3) for doc_id in SHIPPED]
    counts = np.bincount([shard_of(f"{i:06d}.txt", 4) for i in range(4000)], minlength=4)
    assert counts.min() > 900  # an even spread


def test_each_shard_is_an_index_of_the_articles_it_owns(sharded):
    dirs = shard_dirs(sharded / "index")
    assert [d.name for d in dirs] == ["shard-0", "shard-1"]
    for i, directory in enumerate(dirs):
        store = IndexStore.open(directory)
        assert [d.id for d in store.documents()] == [d for d in SHIPPED if shard_of(d, 2) == i]
        store.close()


def test_dense_search_across_shards_is_the_single_indexs_exactly(sharded, articles_index, qa):
    """Cosine scores do not depend on what else an index holds: the merged top k is the single index's top k."""
    store = ShardedStore.open(sharded / "index")
    for question in ("Who is the Kremlin spokesperson?", "oil prices", "nuclear weapons"):
        vector = qa.embedder.run([question])[0]
        merged = [(c.doc_id, c.start, round(h.score, 6)) for h, c in _with_chunks(store, store.search(vector, 20))]
        single = [
            (c.doc_id, c.start, round(h.score, 6)) for h, c in _with_chunks(qa.store, qa.store.search(vector, 20))
        ]
        assert merged == single
    store.close()


def _with_chunks(store, hits):
    return zip(hits, store.chunks([h.chunk_id for h in hits]))


def test_the_router_keeps_the_best_k_of_every_shards_hits(sharded):
    store = ShardedStore.open(sharded / "index")
    terms = rag.lexical.Analyzer().run(["Kremlin spokesperson Peskov"])[0]
    per_shard = [
        [(c.doc_id, c.start, h.score) for h, c in _with_chunks(shard, shard.lexical(terms, 8))]
        for shard in store.shards
    ]
    expected = sorted(per_shard[0] + per_shard[1], key=lambda hit: -hit[2])[:8]
    assert [(c.doc_id, c.start, h.score) for h, c in _with_chunks(store, store.lexical(terms, 8))] == expected
    store.close()


def test_one_process_answers_from_a_sharded_index_with_citations_into_both_shards(sharded, qa):
    sharded_qa = rag.load(sharded / "index", reader=qa.answer_builder.reader)
    assert isinstance(sharded_qa.store, ShardedStore)
    answer = sharded_qa.ask("Who is the Kremlin spokesperson?")
    assert answer.text == qa.ask("Who is the Kremlin spokesperson?").text
    assert {shard_of(p.source, 2) for p in answer.passages} == {0, 1}
    for passage in answer.passages:  # every global id reads back its own chunk
        chunk = sharded_qa.store.chunks([passage.chunk_id])[0]
        assert (chunk.doc_id, chunk.start, chunk.text) == (passage.source, passage.start, passage.text)
    assert sharded_qa.store.n_documents == 5 and sharded_qa.store.n_chunks == qa.store.n_chunks


def test_an_added_article_goes_to_the_shard_that_owns_it(tmp_path, embedder):
    shutil.copytree(ARTICLES, tmp_path / "corpus")
    indexer = ShardedIndexer(Indexer(embedder), 2)
    indexer.run(tmp_path / "corpus", tmp_path / "index")
    before = [IndexStore.open(d).generations[0] for d in shard_dirs(tmp_path / "index")]
    name = next(f"rover-{i}.txt" for i in range(10) if shard_of(f"rover-{i}.txt", 2) == 1)
    (tmp_path / "corpus" / name).write_text("The lunar rover Pragyan found sulphur near the south pole. " * 10)
    report = indexer.run(tmp_path / "corpus", tmp_path / "index")
    assert report.added == [name] and report.unchanged == 5
    after = [IndexStore.open(d) for d in shard_dirs(tmp_path / "index")]
    assert [s.generations[0] for s in after] == [before[0], before[1] + 1]
    assert name in [d.id for d in after[1].documents()] and name not in [d.id for d in after[0].documents()]


def test_the_number_of_shards_is_fixed_once_built_and_an_unsharded_index_stays_so(sharded, articles_index, embedder):
    with pytest.raises(IndexIncompatibleError, match="has 2 shards, not 3; build a new one in another folder"):
        ShardedIndexer(Indexer(embedder), 3).run(sharded / "corpus", sharded / "index")
    with pytest.raises(IndexIncompatibleError, match="is not sharded"):
        ShardedIndexer(Indexer(embedder), 2).run(sharded / "corpus", articles_index)


def test_more_shards_than_articles_is_a_clear_error(tmp_path, embedder):
    shutil.copytree(ARTICLES, tmp_path / "corpus")
    with pytest.raises(CorpusError, match="8 shards need articles for each"):
        ShardedIndexer(Indexer(embedder), 8).run(tmp_path / "corpus", tmp_path / "index")


class DownShard:
    """A shard whose deployment does not answer (as rag.serving.RemoteShard reports it)."""

    def __getattr__(self, name):
        def down(*args):
            raise ShardUnavailableError("shard 1 of 2 of the index is down or restarting")

        return down


def test_a_shard_that_is_down_fails_the_search_unless_partial_results_are_asked_for(sharded, qa):
    up = IndexStore.open(shard_dirs(sharded / "index")[0])
    store = ShardedStore([up, DownShard()])
    vector = qa.embedder.run(["Who is the Kremlin spokesperson?"])[0]
    with pytest.raises(ShardUnavailableError, match="shard 1 of 2"):
        store.search(vector, 5)
    with partial_results() as missing:
        hits = store.search(vector, 5)
        store.lexical(["kremlin"], 5)
    assert missing == [1]
    assert [c.doc_id for c in store.chunks([h.chunk_id for h in hits])] == [
        c.doc_id for c in up.chunks([h.chunk_id for h in up.search(vector, 5)])
    ]
    up.close()


def test_rag_check_reads_every_shard(sharded):
    checked = subprocess.run(
        [sys.executable, "-m", "rag.cli", "check", "--index-dir", str(sharded / "index")],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0
    assert [line.split(": ")[-1] for line in checked.stdout.splitlines() if "shard-" in line] == [
        "ok (1 segment, 2 documents)",
        "ok (1 segment, 3 documents)",
    ]


def test_article_details_set_on_a_sharded_index_relabel_the_owning_shard(tmp_path, embedder):
    from rag.library import set_details

    shutil.copytree(ARTICLES, tmp_path / "corpus")
    ShardedIndexer(Indexer(embedder), 2).run(tmp_path / "corpus", tmp_path / "index")
    meta, report = set_details(tmp_path / "corpus", SHIPPED[1], tmp_path / "index", outlet="The Test Gazette")
    assert meta.outlet == "The Test Gazette" and report.relabelled == [SHIPPED[1]] and report.chunks_embedded == 0
    store = ShardedStore.open(tmp_path / "index")
    assert store.document(SHIPPED[1]).meta.outlet == "The Test Gazette"


def test_a_shard_server_reads_the_commit_a_question_began_on_until_it_is_two_changes_old(tmp_path, embedder):
    """A library change that merges segments renumbers chunks: a question that searched the old commit reads its
    chunks from that commit, and is told to ask again once it is gone (rag/serving.py)."""
    from rag.serving import ShardServer

    shutil.copytree(ARTICLES, tmp_path / "corpus")
    indexer = Indexer(embedder)
    indexer.run(tmp_path / "corpus", tmp_path / "index")
    server = ShardServer(str(tmp_path / "index"))
    vector = embedder.run(["Who is the Kremlin spokesperson?"])[0]
    generation, hits = server.call("search", None, vector, 3)
    before = server.call("chunks", generation, [h.chunk_id for h in hits])[1]

    (tmp_path / "corpus" / "rover.txt").write_text("The lunar rover Pragyan found sulphur near the south pole. " * 10)
    (tmp_path / "corpus" / SHIPPED[0]).unlink()
    indexer.run(tmp_path / "corpus", tmp_path / "index", optimize=True)  # one merged segment: new chunk ids
    assert server.call("generations", None)[1] != [generation]
    pinned, again = server.call("chunks", generation, [h.chunk_id for h in hits])
    assert pinned == generation and again == before
    (tmp_path / "corpus" / "rover.txt").unlink()
    indexer.run(tmp_path / "corpus", tmp_path / "index")
    server.call("n_chunks", None)  # the shard sees the newest commit; the first is now two changes old
    with pytest.raises(ShardUnavailableError, match="the index changed twice while this question was answered"):
        server.call("chunks", generation, [h.chunk_id for h in hits])
