"""Article details set by a person (rag/details.py): kept in a sidecar beside the articles, laid over what the text
states, kept by rebuilds, seen by the filters and the citations, and written into the index without embedding."""

import json

import numpy as np
import pytest

import rag
from rag.answers import Citation, named, short_title
from rag.cli import main
from rag.details import SIDECAR
from rag.embedding import Embedder
from rag.files import sha256_of
from rag.indexing import Indexer
from rag.library import Library
from rag.metadata import Metadata
from rag.store import IndexStore

PLAIN = "000_9cebef51757e5eed.txt"  # states neither outlet, date nor headline
DATED = "003_11d5bc04a0aec479.txt"  # states its date (19 December 2024) and its headline


@pytest.fixture
def indexed(corpus, tmp_path, embedder):
    """A writable corpus and its index; embedding fails from here on, so a test sees anything embedded again."""
    index_dir = tmp_path / "index"
    Indexer(embedder).run(corpus, index_dir)
    return corpus, index_dir


@pytest.fixture
def no_embedding(monkeypatch):
    def refuse(self, texts, *args, **kwargs):
        raise AssertionError(f"embedded {len(texts)} texts")

    monkeypatch.setattr(Embedder, "run", refuse)


def vectors_of(index_dir, doc_id) -> np.ndarray:
    """The document's chunk vectors, in document order."""
    store = IndexStore.open(index_dir)
    try:
        rows = []
        for segment in store.segments:
            if doc_id in segment.hashes([doc_id]):
                found = segment._query("SELECT id FROM chunks WHERE doc_id = ? ORDER BY position", (doc_id,))
                rows = [np.asarray(segment.vectors[r]) for (r,) in found]
        return np.stack(rows)
    finally:
        store.close()


def meta_of(index_dir, doc_id) -> Metadata:
    store = IndexStore.open(index_dir)
    try:
        return store.document(doc_id).meta
    finally:
        store.close()


def test_set_details_are_written_beside_the_article_and_the_index_relabels_it_without_embedding(indexed, no_embedding):
    corpus, index_dir = indexed
    before = vectors_of(index_dir, PLAIN)
    meta, report = rag.set_details(corpus, PLAIN, index_dir=index_dir, outlet="Kyiv Post", published="2024-12-20")
    assert meta.outlet == "Kyiv Post" and meta.published == "2024-12-20"
    assert meta.title.startswith("In a recent interview")  # what nobody set stays as the text states it
    assert meta.author is None and meta.url is None  # never invented
    assert json.loads((corpus / SIDECAR).read_text()) == {PLAIN: {"outlet": "Kyiv Post", "published": "2024-12-20"}}
    assert report.chunks_embedded == 0 and report.relabelled == [PLAIN] and report.updated == [PLAIN]
    assert "1 updated (1 only their details)" in report.summary()
    assert meta_of(index_dir, PLAIN) == meta
    np.testing.assert_array_equal(vectors_of(index_dir, PLAIN), before)  # the same vectors, not recomputed
    store = IndexStore.open(index_dir)
    assert store.n_documents == 5 and store.n_chunks == sum(d.n_chunks for d in store.documents())
    store.close()


def test_the_filters_and_citations_see_set_details(indexed, embedder):
    corpus, index_dir = indexed
    rag.set_details(corpus, PLAIN, index_dir=index_dir, outlet="Kyiv Post", published="2024-12-20")
    qa = rag.QA(IndexStore.open(index_dir), embedder)
    answer = qa.ask("Who is the Kremlin spokesperson?", filters={"outlet": ["Kyiv Post"]})
    assert {p.source for p in answer.passages} == {PLAIN}
    assert answer.citations[0].label == "Kyiv Post · 20 Dec 2024 · line 20"
    since = qa.ask("Who is the Kremlin spokesperson?", filters={"after": "2024-12-20"})
    assert {p.source for p in since.passages} == {PLAIN}  # 003 (19 Dec) is before; the rest undated
    qa.store.close()


def test_a_rebuild_keeps_the_details_and_an_update_leaves_the_article_alone(indexed, embedder, no_embedding):
    corpus, index_dir = indexed
    rag.set_details(corpus, DATED, index_dir=index_dir, outlet="The Moscow Times", author="Jane Roe")
    report = Indexer(embedder).run(corpus, index_dir)  # an update of the whole folder
    assert report.unchanged == 5 and not report.changed and report.chunks_embedded == 0
    meta = meta_of(index_dir, DATED)
    assert (meta.outlet, meta.author, meta.published) == ("The Moscow Times", "Jane Roe", "2024-12-19")
    assert meta.title == "Putin Signals Readiness for Talks with Trump Amid Ukraine War"


def test_a_rebuild_from_scratch_reads_the_details_from_the_sidecar(indexed, embedder, tmp_path):
    corpus, index_dir = indexed
    rag.set_details(corpus, DATED, index_dir=None, outlet="The Moscow Times")  # no index: the sidecar only
    other = tmp_path / "other"
    other.mkdir()
    (other / "note.txt").write_text("A note that no index holds.")
    _, report = rag.set_details(other, "note.txt", index_dir=index_dir, outlet="X")  # not this index's article
    assert report is None and "note.txt" not in {d.id for d in IndexStore.open(index_dir).documents()}
    assert meta_of(index_dir, DATED).outlet is None
    Indexer(embedder).run(corpus, index_dir, rebuild=True)
    assert meta_of(index_dir, DATED).outlet == "The Moscow Times"


def test_a_sidecar_edited_by_hand_is_noticed_by_the_next_update_without_embedding(indexed, embedder, no_embedding):
    corpus, index_dir = indexed
    (corpus / SIDECAR).write_text(json.dumps({PLAIN: {"outlet": "Reuters", "bogus": "x", "url": 3}}))
    report = Indexer(embedder).run(corpus, index_dir)
    assert report.relabelled == [PLAIN] and report.chunks_embedded == 0
    assert meta_of(index_dir, PLAIN) == Metadata(meta_of(index_dir, PLAIN).title, "Reuters")
    (corpus / SIDECAR).write_text("{}")
    report = Indexer(embedder).run(corpus, index_dir)
    assert report.relabelled == [PLAIN] and meta_of(index_dir, PLAIN).outlet is None  # unknown again


def test_an_empty_value_clears_a_set_detail_and_the_stated_one_comes_back(indexed, no_embedding):
    corpus, index_dir = indexed
    rag.set_details(corpus, DATED, index_dir=index_dir, published="2025-01-02", outlet="AP")
    assert meta_of(index_dir, DATED).published == "2025-01-02"  # set over what the text states
    meta, _ = rag.set_details(corpus, DATED, index_dir=index_dir, published="")
    assert (meta.published, meta.outlet) == ("2024-12-19", "AP")  # None leaves the outlet as it was set
    meta, _ = rag.set_details(corpus, DATED, index_dir=index_dir, outlet="")
    assert meta.outlet is None and meta_of(index_dir, DATED) == meta
    assert json.loads((corpus / SIDECAR).read_text()) == {}


@pytest.mark.parametrize(
    "doc_id, fields, message",
    [
        ("nope.txt", {"outlet": "X"}, "no article 'nope.txt'"),
        ("../etc/passwd", {"outlet": "X"}, "no article"),
        (PLAIN, {"published": "12/01/2024"}, "not a date: '12/01/2024'; write it as YYYY-MM-DD"),
        (PLAIN, {"published": "2024-02-30"}, "not a date"),
        (PLAIN, {"url": "example.com/a"}, "not a web address"),
        (PLAIN, {"colour": "red"}, "unknown article detail colour"),
    ],
)
def test_bad_details_are_refused_and_nothing_is_written(corpus, doc_id, fields, message):
    with pytest.raises(rag.RagError, match=message.replace("(", r"\(").replace(".", r"\.")):
        rag.set_details(corpus, doc_id, index_dir=None, **fields)
    assert not (corpus / SIDECAR).exists()


def test_rag_meta_sets_prints_and_refuses_bad_dates(indexed, capsys, monkeypatch, no_embedding):
    corpus, index_dir = indexed
    monkeypatch.chdir(corpus.parent)
    argv = ["meta", f"corpus/{PLAIN}", "--corpus", "corpus", "--index-dir", str(index_dir)]
    assert main([*argv, "--outlet", "Kyiv Post", "--published", "2024-12-20"]) == 0
    out = capsys.readouterr()
    assert "outlet:    Kyiv Post\npublished: 2024-12-20\nauthor:    (unknown)\nurl:       (unknown)" in out.out
    assert "1 updated (1 only their details)" in out.err and "embedded 0 chunks" in out.err
    assert meta_of(index_dir, PLAIN).outlet == "Kyiv Post"
    assert main(["meta", PLAIN, "--corpus", "corpus", "--index-dir", str(index_dir), "--published", "Dec 2024"]) == 2
    assert "rag: error: not a date: 'Dec 2024'" in capsys.readouterr().err
    assert main(["meta", "missing.txt", "--corpus", "corpus", "--index-dir", str(index_dir), "--outlet", "X"]) == 2
    assert "no article 'missing.txt'" in capsys.readouterr().err
    assert main(["meta", PLAIN, "--corpus", "corpus", "--index-dir", str(index_dir), "--outlet", ""]) == 0
    assert "outlet:    (unknown)" in capsys.readouterr().out


def test_the_library_sets_details_in_process_and_forgets_them_with_the_article(indexed, embedder):
    corpus, index_dir = indexed
    library = Library(corpus, index_dir)
    library.embedder = embedder
    qa = library.set_details(DATED, outlet="The Moscow Times")
    assert qa.report.chunks_embedded == 0 and qa.store.document(DATED).meta.outlet == "The Moscow Times"
    assert library.details(DATED) == (qa.store.document(DATED).meta, Metadata(outlet="The Moscow Times"))
    raw = (corpus / DATED).read_bytes()
    result, _ = library.add([("copy.txt", raw)])  # the index's fingerprint still tells the same bytes
    assert result.rejected == [("copy.txt", f"same content as {DATED}, already in the library")]
    library.remove(DATED)
    assert DATED not in json.loads((corpus / SIDECAR).read_text())
    assert sha256_of(corpus / PLAIN) in {d.sha256 for d in IndexStore.open(index_dir).documents()}


def test_a_citation_names_the_outlet_else_the_title_shortened_else_the_file():
    assert named("a.txt", "The Independent", "2024-12-19", "Some title") == "The Independent · 19 Dec 2024"
    assert named("a.txt", None, "2024-12-19", "Putin Says He’s Ready to Talk With Trump ‘Anytime’") == (
        "Putin Says He’s Ready to Talk With… · 19 Dec 2024"
    )
    assert named("a.txt", None, None, None) == "a.txt"
    assert short_title("In a recent interview conducted on Russian state television, Russian President…") == (
        "In a recent interview conducted on…"
    )
    assert short_title("Short headline") == "Short headline"
    assert len(short_title("x" * 100)) == 40
    citation = Citation("a.txt", 0, 5, 20, "Hello", Metadata("A headline", None, "2024-12-19"))
    assert citation.label == "A headline · 19 Dec 2024 · line 20"


def test_many_relabels_then_a_merge_leave_a_whole_index_with_the_same_vectors(indexed, embedder, no_embedding):
    from rag.check import IndexChecker

    corpus, index_dir = indexed
    before = {doc: vectors_of(index_dir, doc) for doc in (PLAIN, DATED)}
    for n in range(6):
        rag.set_details(corpus, PLAIN if n % 2 else DATED, index_dir=index_dir, author=f"Writer {n}")
    report = Indexer(embedder).run(corpus, index_dir, optimize=True)  # every segment merged into one
    assert report.chunks_embedded == 0 and IndexChecker().run(index_dir).ok
    assert (meta_of(index_dir, PLAIN).author, meta_of(index_dir, DATED).author) == ("Writer 5", "Writer 4")
    for doc, vectors in before.items():
        np.testing.assert_array_equal(vectors_of(index_dir, doc), vectors)
