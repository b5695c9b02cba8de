"""rag index --ray: a local Ray cluster parses, chunks and embeds; the index answers as a local build's does."""

import ray

import rag
from rag.distributed import RayIndexer
from rag.indexing import Indexer
from rag.store import read_commit

QUESTIONS = [
    "Who is the Kremlin spokesperson?",
    "How many nuclear warheads does Russia possess?",
    "In which city did Trump address the World Economic Forum?",
    "Who won the 1998 Tour de France?",
]


def test_a_build_on_a_local_ray_cluster_answers_exactly_as_the_single_process_build(corpus, tmp_path, embedder):
    (corpus / "broken.txt").write_bytes(b"\x00\x01binary")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        report = RayIndexer(embedder, documents_per_segment=2).run(corpus, tmp_path / "index")
        (corpus / "extra.txt").write_text("The lighthouse keeper of Port Ellen retired after forty years on Friday.")
        (corpus / "003_11d5bc04a0aec479.txt").unlink()
        update = RayIndexer(embedder, documents_per_segment=2).run(corpus, tmp_path / "index")
    finally:
        ray.shutdown()

    assert len(report.added) == 5 and [s.path for s in report.skipped] == ["broken.txt"]
    assert (
        len(read_commit(tmp_path / "index").segments) == 2
    )  # three workers' batches merged into one segment per update
    assert update.added == ["extra.txt"] and update.removed == ["003_11d5bc04a0aec479.txt"] and update.unchanged == 4
    Indexer(embedder).run(corpus, tmp_path / "local")
    distributed, local = rag.load(tmp_path / "index"), rag.load(tmp_path / "local")
    assert distributed.store.documents() == local.store.documents()
    for question in QUESTIONS + ["How long did the lighthouse keeper of Port Ellen work?"]:
        a, b = distributed.ask(question), local.ask(question)
        assert (a.text, a.abstained, a.citations) == (b.text, b.abstained, b.citations)
        assert abs(a.confidence - b.confidence) < 1e-4


def test_ray_data_writes_the_shards_of_a_sharded_index_as_a_local_build_does(corpus, tmp_path, embedder):
    from rag.shards import ShardedIndexer, shard_dirs

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        report = ShardedIndexer(RayIndexer(embedder, documents_per_segment=2), 2).run(corpus, tmp_path / "index")
    finally:
        ray.shutdown()
    assert sorted(report.added) == sorted(p.name for p in corpus.iterdir())
    ShardedIndexer(Indexer(embedder), 2).run(corpus, tmp_path / "local")
    for on_ray, here in zip(shard_dirs(tmp_path / "index"), shard_dirs(tmp_path / "local")):
        assert rag.load(on_ray).store.documents() == rag.load(here).store.documents()
    distributed, local = rag.load(tmp_path / "index"), rag.load(tmp_path / "local")
    for question in QUESTIONS:
        a, b = distributed.ask(question), local.ask(question)
        assert (a.text, a.abstained, a.citations) == (b.text, b.abstained, b.citations)
