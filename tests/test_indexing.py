import json
import shutil
import sqlite3

import pytest

import rag
from rag.errors import CorpusError, IndexCorruptError, IndexIncompatibleError, IndexNotFoundError
from rag.indexing import Indexer
from rag.store import IndexStore, read_manifest


def live_generation(index_dir):
    return index_dir / (index_dir / "CURRENT").read_text().strip()


def test_build_writes_faiss_sqlite_and_manifest(articles_index):
    generation = live_generation(articles_index)
    assert {p.name for p in generation.iterdir()} == {"chunks.faiss", "store.sqlite", "manifest.json"}
    manifest = json.loads((generation / "manifest.json").read_text())
    assert manifest["format_version"] == 3 and manifest["model"] == "all-MiniLM-L6-v2" and manifest["dimension"] == 384
    assert manifest["chunker"] == {"max_tokens": 128, "overlap_sentences": 1, "encoding": "cl100k_base"}
    assert len(manifest["documents"]) == 5 and all(len(h) == 64 for h in manifest["documents"].values())
    store = IndexStore.open(articles_index)
    assert store.chunk_index.ntotal == len(store.chunks) > 30
    for chunk in store.chunks.values():
        assert store.documents[chunk.doc_id].text[chunk.start : chunk.end] == chunk.text
    for sentence in store.sentences:
        document = store.documents[sentence.doc_id].text
        assert document[sentence.start : sentence.end] == sentence.text
        assert sentence.line == document.count("\n", 0, sentence.start) + 1
    db = sqlite3.connect(generation / "store.sqlite")
    assert [column[1] for column in db.execute("PRAGMA table_info(sentences)")] == ["id", "doc_id", "position", "start", "end", "line"]
    assert not db.execute("SELECT name FROM sqlite_master WHERE name = 'entities'").fetchall()


def test_rerun_on_unchanged_corpus_embeds_nothing(corpus, tmp_path, embedder):
    index_dir = tmp_path / "index"
    first = Indexer(embedder).run(corpus, index_dir)
    generation = live_generation(index_dir)
    second = Indexer(embedder).run(corpus, index_dir)
    assert len(first.added) == 5 and first.chunks_embedded > 0
    assert second.unchanged == 5 and second.chunks_embedded == 0 and not second.changed
    assert live_generation(index_dir) == generation


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
    assert set(qa.store.documents) == {p.relative_to(corpus).as_posix() for p in corpus.rglob("*.txt")}
    assert qa.store.chunk_index.ntotal == len(qa.store.chunks)
    answer = qa.ask("What colour was the zebra crossing on Elm Street repainted?")
    assert answer.citations[0].source == "new/extra.txt" and "purple" in answer.text
    assert "donut" in qa.ask("What did the mayor of Springfield unveil?").text
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
    assert set(after.documents) == set(before.documents) and len(after.chunks) == len(before.chunks)
    assert [p.name for p in index_dir.glob("gen-*")] == [live_generation(index_dir).name]


def test_missing_index_says_how_to_build(tmp_path):
    with pytest.raises(IndexNotFoundError, match="rag index CORPUS_DIR"):
        rag.load(tmp_path / "nothing-here")


@pytest.mark.parametrize("damage", ["truncate faiss", "garbage sqlite", "drop table", "bad manifest", "missing file"])
def test_corrupt_index_is_a_clear_error(articles_index, tmp_path, damage):
    index_dir = tmp_path / "index"
    shutil.copytree(articles_index, index_dir)
    generation = live_generation(index_dir)
    if damage == "truncate faiss":
        data = (generation / "chunks.faiss").read_bytes()
        (generation / "chunks.faiss").write_bytes(data[: len(data) // 2])
    elif damage == "garbage sqlite":
        (generation / "store.sqlite").write_bytes(b"not a database" * 100)
    elif damage == "drop table":
        with sqlite3.connect(generation / "store.sqlite") as db:
            db.execute("DROP TABLE sentences")
    elif damage == "bad manifest":
        (generation / "manifest.json").write_text("{not json")
    else:
        (generation / "store.sqlite").unlink()
    with pytest.raises(IndexCorruptError, match="--rebuild"):
        rag.load(index_dir)


def test_index_from_another_model_or_format_is_refused_with_rebuild_hint(articles_index, tmp_path, corpus, embedder):
    index_dir = tmp_path / "index"
    shutil.copytree(articles_index, index_dir)
    with pytest.raises(IndexIncompatibleError, match="built with model 'all-MiniLM-L6-v2', not 'other-model'.*--rebuild"):
        rag.load(index_dir, model="other-model")
    manifest_path = live_generation(index_dir) / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["model"] = "paraphrase-MiniLM-L3-v2"
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IndexIncompatibleError, match="paraphrase-MiniLM-L3-v2.*--rebuild"):
        Indexer(embedder).run(corpus, index_dir)
    report = Indexer(embedder).run(corpus, index_dir, rebuild=True)
    assert len(report.added) == 5 and read_manifest(index_dir).model == "all-MiniLM-L6-v2"
    manifest = json.loads((live_generation(index_dir) / "manifest.json").read_text())
    manifest["format_version"] = 99
    (live_generation(index_dir) / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexIncompatibleError, match="format version 99"):
        rag.load(index_dir)
    with pytest.raises(IndexIncompatibleError, match="format version 99"):
        Indexer(embedder).run(corpus, index_dir)
    assert len(Indexer(embedder).run(corpus, index_dir, rebuild=True).added) == 5
    assert len(rag.load(index_dir).store.documents) == 5


def test_empty_corpus_is_refused_and_the_index_kept(articles_index, tmp_path, embedder):
    index_dir = tmp_path / "index"
    shutil.copytree(articles_index, index_dir)
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match="no readable"):
        Indexer(embedder).run(tmp_path / "empty", index_dir)
    assert len(rag.load(index_dir).store.documents) == 5
