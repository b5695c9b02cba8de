import hashlib
import json
import shutil
from dataclasses import replace

import pytest

import rag
from rag.errors import CorpusError, IndexIncompatibleError, IndexNotFoundError
from rag.indexing import Indexer
from rag.store import IndexStore, read_commit
from tests.conftest import ARTICLES, SHIPPED


def only_segment(index_dir):
    [segment] = read_commit(index_dir).segments
    return index_dir / "segments" / segment.name


def test_build_writes_one_segment_and_a_commit(articles_index):
    segment = only_segment(articles_index)
    assert {p.name for p in segment.iterdir()} == {"rows.sqlite", "vectors.npy", "bm25", "segment.json"}
    commit = json.loads((articles_index / "COMMIT").read_text())
    assert commit["format_version"] == 7 and commit["model"] == "all-MiniLM-L6-v2" and commit["dimension"] == 384
    assert commit["chunker"] == {"max_tokens": 128, "overlap_sentences": 1, "encoding": "cl100k_base"}
    store = IndexStore.open(articles_index)
    documents = store.documents()
    assert [d.id for d in documents] == SHIPPED and store.n_documents == 5
    assert [d.sha256 for d in documents] == [
        hashlib.sha256((ARTICLES / d.id).read_bytes()).hexdigest() for d in documents
    ]
    assert store.n_chunks == sum(d.n_chunks for d in documents) > 30
    for chunk in store.chunks(list(range(store.n_chunks))):
        text = store.document(chunk.doc_id).text
        assert text[chunk.start : chunk.end] == chunk.text
        for sentence in store.sentences(chunk, before=1):
            assert text[sentence.start : sentence.end] == sentence.text
            assert sentence.line == text.count("\n", 0, sentence.start) + 1


def test_rerun_on_unchanged_corpus_embeds_nothing(corpus, tmp_path, embedder):
    index_dir = tmp_path / "index"
    first = Indexer(embedder).run(corpus, index_dir)
    commit = read_commit(index_dir)
    second = Indexer(embedder).run(corpus, index_dir)
    assert first.added == SHIPPED and first.chunks_embedded == IndexStore.open(index_dir).n_chunks  # each chunk once
    assert second.unchanged == 5 and second.chunks_embedded == 0 and not second.changed
    assert read_commit(index_dir) == commit


def test_added_changed_and_removed_files_are_updated_incrementally(corpus, tmp_path, embedder):
    index_dir = tmp_path / "index"
    Indexer(embedder).run(corpus, index_dir)
    (corpus / "new").mkdir()
    (corpus / "new" / "extra.txt").write_text("The zebra crossing on Elm Street was repainted bright purple on Monday.")
    changed = corpus / "002_aa8d7564ce6ae218.txt"
    changed.write_text(changed.read_text() + "\nThe mayor of Springfield unveiled a statue of a giant donut.\n")
    (corpus / "003_11d5bc04a0aec479.txt").unlink()

    report = Indexer(embedder).run(corpus, index_dir)

    assert report.added == ["new/extra.txt"] and report.updated == ["002_aa8d7564ce6ae218.txt"]
    assert report.removed == ["003_11d5bc04a0aec479.txt"] and report.unchanged == 3
    qa = rag.load(index_dir)
    assert {d.id for d in qa.store.documents()} == {p.relative_to(corpus).as_posix() for p in corpus.rglob("*.txt")}
    assert qa.store.n_chunks == sum(d.n_chunks for d in qa.store.documents())
    commit = read_commit(index_dir)
    assert [s.documents for s in commit.segments] == [2, 3]  # the new segment, then the old one rewritten without the
    assert [s.deleted for s in commit.segments] == [(), ()]  # 2 of its 5 documents (over a quarter) deleted
    answer = qa.ask("What colour was the zebra crossing on Elm Street repainted?")
    assert answer.citations[0].source == "new/extra.txt"
    assert answer.text == "The zebra crossing on Elm Street was repainted bright purple on Monday."
    assert (
        qa.ask("What did the mayor of Springfield unveil?").text
        == "The mayor of Springfield unveiled a statue of a giant donut."
    )
    assert all(p.source != "003_11d5bc04a0aec479.txt" for p in qa.ask("Putin readiness talks Trump", k=20).passages)


def test_crash_mid_build_leaves_the_previous_index_usable(corpus, tmp_path, embedder, monkeypatch):
    index_dir = tmp_path / "index"
    Indexer(embedder).run(corpus, index_dir)
    before = IndexStore.open(index_dir)
    (corpus / "extra.txt").write_text("A brand new article about something else entirely.")
    (corpus / "001_50e1bebe41a30cea.txt").unlink()

    def crash(*args, **kwargs):
        raise MemoryError("simulated crash while embedding")

    monkeypatch.setattr(embedder, "run", crash)
    with pytest.raises(MemoryError):
        Indexer(embedder).run(corpus, index_dir)

    after = IndexStore.open(index_dir)
    assert after.documents() == before.documents() and after.n_chunks == before.n_chunks
    assert [p.name for p in (index_dir / "segments").iterdir()] == [only_segment(index_dir).name]


def test_missing_index_says_how_to_build(tmp_path):
    with pytest.raises(IndexNotFoundError, match="rag index CORPUS_DIR"):
        rag.load(tmp_path / "nothing-here")


def test_index_from_another_model_or_format_is_refused_with_rebuild_hint(articles_index, tmp_path, corpus, embedder):
    index_dir = tmp_path / "index"
    shutil.copytree(articles_index, index_dir)
    with pytest.raises(
        IndexIncompatibleError, match="built with model 'all-MiniLM-L6-v2', not 'other-model'.*--rebuild"
    ):
        rag.load(index_dir, model="other-model")
    (index_dir / "COMMIT").write_text(replace(read_commit(index_dir), model="paraphrase-MiniLM-L3-v2").to_json())
    with pytest.raises(IndexIncompatibleError, match="paraphrase-MiniLM-L3-v2.*--rebuild"):
        Indexer(embedder).run(corpus, index_dir)
    report = Indexer(embedder).run(corpus, index_dir, rebuild=True)
    assert report.added == SHIPPED and read_commit(index_dir).model == "all-MiniLM-L6-v2"
    commit = json.loads((index_dir / "COMMIT").read_text())
    (index_dir / "COMMIT").write_text(json.dumps({**commit, "format_version": 99}))
    with pytest.raises(IndexIncompatibleError, match="format version 99"):
        rag.load(index_dir)
    with pytest.raises(IndexIncompatibleError, match="format version 99"):
        Indexer(embedder).run(corpus, index_dir)
    assert Indexer(embedder).run(corpus, index_dir, rebuild=True).added == SHIPPED
    assert rag.load(index_dir).store.n_documents == 5


def test_an_index_of_the_old_whole_copy_format_is_refused_on_load_and_rebuilt_by_an_update(tmp_path, corpus, embedder):
    index_dir = tmp_path / "index"
    (index_dir / "gen-1").mkdir(parents=True)
    (index_dir / "gen-1" / "manifest.json").write_text(json.dumps({"format_version": 3}))
    (index_dir / "CURRENT").write_text("gen-1\n")
    with pytest.raises(IndexIncompatibleError, match="older format.*--rebuild"):
        rag.load(index_dir)
    assert Indexer(embedder).run(corpus, index_dir).added == SHIPPED
    assert sorted(p.name for p in index_dir.iterdir()) == [".lock", "COMMIT", "segments"]
    assert rag.load(index_dir).store.n_documents == 5


def test_empty_corpus_is_refused_and_the_index_kept(articles_index, tmp_path, embedder):
    index_dir = tmp_path / "index"
    shutil.copytree(articles_index, index_dir)
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match="no readable"):
        Indexer(embedder).run(tmp_path / "empty", index_dir)
    assert rag.load(index_dir).store.n_documents == 5


def test_update_files_indexes_and_removes_only_the_files_named(corpus, tmp_path, embedder):
    index_dir = tmp_path / "index"
    Indexer(embedder).run(corpus, index_dir)
    extra = tmp_path / "extra.txt"
    extra.write_text("The lighthouse keeper of Port Ellen retired after forty years on Friday.")
    (corpus / "003_11d5bc04a0aec479.txt").unlink()  # not looked at: update_files does not scan the folder

    report = Indexer(embedder).update_files(
        index_dir, [("new/extra.txt", extra)], removed=["001_50e1bebe41a30cea.txt", "nope.txt"]
    )

    assert (
        report.added == ["new/extra.txt"]
        and report.removed == ["001_50e1bebe41a30cea.txt"]
        and report.chunks_embedded == 1
    )
    assert Indexer(embedder).update_files(index_dir, [("new/extra.txt", extra)]).unchanged == 1
    qa = rag.load(index_dir)
    assert (
        qa.store.n_documents == 5
        and "001_50e1bebe41a30cea.txt" not in {d.id for d in qa.store.documents()}
        and qa.ask("How long did the lighthouse keeper of Port Ellen work?").citations[0].source == "new/extra.txt"
    )
