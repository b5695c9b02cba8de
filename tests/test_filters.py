"""Filters by date and outlet, applied inside retrieval before the top k, in exact search, IVF and BM25."""

import subprocess
import sys

import numpy as np
import pytest

import rag
from rag import segments
from rag.errors import InvalidQuestionError
from rag.filters import Filters, read_date
from rag.indexing import Indexer
from rag.store import IndexStore

ARTICLES = {  # outlet, date, text: the same story told three times
    "ledger.md": (
        "The Daily Ledger",
        "2024-12-10",
        "The Harbour Bridge will reopen on Monday after repairs, the city engineer said.",
    ),
    "wire.md": (
        "Metro Wire",
        "2025-01-20",
        "The Harbour Bridge will reopen on Friday after repairs ran late, the city engineer said.",
    ),
    "courier.md": (
        "Northern Courier",
        "2025-02-02",
        "The Harbour Bridge reopened to traffic on Saturday after four months of repairs.",
    ),
    "undated.txt": (None, None, "The Harbour Bridge repairs cost the city more than planned, an audit found."),
}


@pytest.fixture(scope="module")
def news(tmp_path_factory):
    folder = tmp_path_factory.mktemp("news")
    for name, (outlet, day, text) in ARTICLES.items():
        head = f"---\noutlet: {outlet}\npublished: {day}\n---\n" if outlet else ""
        filler = "".join(
            f"In item {i} the council of {name.split('.')[0]} discussed roads, parks, libraries and bins in ward {i}.\n"
            for i in range(16)
        )  # several chunks an article, enough to train an IVF
        (folder / name).write_text(f"{head}Bridge works\n{text}\n{filler}")
    return folder


@pytest.fixture(scope="module")
def news_qa(news, tmp_path_factory, embedder):
    return rag.build(news, index_dir=tmp_path_factory.mktemp("index") / "i", embedder=embedder)


QUESTION = "When will the Harbour Bridge reopen?"


@pytest.mark.parametrize(
    "filters, sources",
    [
        ({"after": "2025-01-01"}, {"wire.md", "courier.md"}),
        ({"before": "2025-01-01"}, {"ledger.md"}),
        ({"after": "2025-01-01", "before": "2025-02-01"}, {"wire.md"}),
        ({"outlet": ["metro wire", "Northern Courier"]}, {"wire.md", "courier.md"}),
        ({"outlet": "The Daily Ledger"}, {"ledger.md"}),
    ],
)
def test_filtered_passages_all_pass_and_fill_k_from_those_that_do(news_qa, filters, sources):
    passages = news_qa.retrieve(QUESTION, k=10, filters=filters)
    admitted = sum(d.n_chunks for d in news_qa.store.documents() if d.id in sources)
    assert {p.source for p in passages} == sources and len(passages) == min(
        10, admitted
    )  # k of these, none of the others
    answer = news_qa.ask(QUESTION, filters=filters)
    assert all(c.source in sources for c in answer.citations)


def test_an_unknown_date_or_outlet_never_passes_a_filter_on_it(news_qa):
    assert "undated.txt" in {p.source for p in news_qa.retrieve(QUESTION, k=50)}
    assert "undated.txt" not in {p.source for p in news_qa.retrieve(QUESTION, k=50, filters={"after": "1900-01-01"})}


@pytest.mark.parametrize(
    "filters, message",
    [
        ({"after": "last week"}, "Couldn't read “last week” as a date: write it like 3 Jan 2025"),
        ({"since": "2025-01-01"}, "keys among"),
        ({"outlet": [3]}, "outlet"),
        ({"after": "2025-02-01", "before": "2025-01-01"}, "no day"),
        ("2025", "must be a dict"),
    ],
)
def test_malformed_filters_are_a_clear_error(news_qa, filters, message):
    with pytest.raises(InvalidQuestionError, match=message):
        news_qa.ask(QUESTION, filters=filters)


def test_ivf_search_takes_the_filter_inside_the_search(news, tmp_path, embedder, monkeypatch):
    monkeypatch.setattr(segments, "ANN_MIN_CHUNKS", 2)
    Indexer(embedder).run(news, tmp_path / "index")
    store = IndexStore.open(tmp_path / "index")
    [segment] = store.segments
    assert segment.ann is not None
    filters = Filters.of({"after": "2025-01-01"})
    mask = segment.admitted(filters)
    vector = embedder.run([QUESTION])[0]
    hits = store.search(vector, 50, filters)
    assert 0 < int(mask.sum()) < store.n_chunks and all(mask[h.chunk_id] for h in hits) and len(hits) == int(mask.sum())


def test_the_command_line_takes_the_filters(news_qa):
    run = [sys.executable, "-m", "rag.cli", "ask", QUESTION, "--index-dir", str(news_qa.store.index_dir)]
    out = subprocess.run(run + ["--outlet", "Metro Wire"], capture_output=True, text=True, check=True).stdout
    assert "Metro Wire · 20 Jan 2025" in out and "Daily Ledger" not in out
    bad = subprocess.run(run + ["--after", "2025-13-01"], capture_output=True, text=True)
    assert bad.returncode == 2 and "Couldn't read “2025-13-01” as a date: write it like 3 Jan 2025" in bad.stderr
    typed = subprocess.run(run + ["--after", "1 January 2025"], capture_output=True, text=True, check=True).stdout
    assert typed.startswith(
        "Filtered to 2 of 4 articles: published on or after 1 Jan 2025; 1 undated article left out\n"
    )


def test_a_narrow_filter_on_an_ivf_segment_still_brings_k_chunks_that_pass(monkeypatch):
    import faiss

    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((20_000, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(384), 384, 128, faiss.METRIC_INNER_PRODUCT)
    ivf.train(vectors)
    ivf.add(vectors)
    segment = segments.Segment.__new__(segments.Segment)  # only what search() reads: no rows needed here
    segment.ann, segment.vectors, segment.n_chunks, segment._n_deleted = ivf, vectors, len(vectors), 0
    segment._ann_parameters = faiss.SearchParametersIVF(nprobe=segments.IVF_PROBES)
    for passing, exact_up_to in ((100, 0), (100, 20_000), (3000, 0)):
        monkeypatch.setattr(segments, "EXACT_FILTERED_ROWS", exact_up_to)
        admitted = np.zeros(len(vectors), dtype=bool)
        admitted[rng.choice(len(vectors), passing, replace=False)] = True
        hits = segment.search(vectors[0], 20, admitted)
        assert len(hits) == 20 and all(admitted[row] for row, _ in hits)


@pytest.mark.parametrize(
    "typed", ["2025-01-03", "3 Jan 2025", "January 3, 2025", "3rd January 2025", "2025/1/3", " 3  jan  2025 "]
)
def test_days_are_read_as_people_type_them(typed):
    assert read_date(typed) == "2025-01-03"
    assert Filters.of({"after": typed}).after == "2025-01-03"  # the API and the command line read the same forms


@pytest.mark.parametrize(
    "typed, message",
    [
        ("3 Jnu 2025", "Couldn't read “3 Jnu 2025” as a date: write it like 3 Jan 2025"),
        ("Jan 2025", "Couldn't read “Jan 2025” as a date: write it like 3 Jan 2025"),  # which day?
        ("31 Feb 2025", "Couldn't read “31 Feb 2025” as a date: write it like 3 Jan 2025"),
        ("3/1/2025", "“3/1/2025” could be 3 Jan or 1 Mar: write the month as a word, like 3 Jan 2025"),
    ],
)
def test_a_day_that_cannot_be_read_says_how_to_write_it(typed, message):
    with pytest.raises(InvalidQuestionError) as caught:
        read_date(typed)
    assert str(caught.value) == message
    with pytest.raises(InvalidQuestionError) as caught:
        Filters.of({"before": typed})
    assert str(caught.value) == f"filters['before']: {message}"


def test_the_summary_says_what_the_filters_leave_of_the_shipped_articles(qa):
    documents = qa.store.documents()
    assert Filters.of({"after": "2024-12-01"}).describe(documents) == (
        "Filtered to 1 of 5 articles: published on or after 1 Dec 2024; 4 undated articles left out"
    )  # one of the five is dated (19 Dec 2024)
    assert Filters.of({"after": "2025-01-01", "before": "2025-02-01"}).describe(documents) == (
        "Filtered to 0 of 5 articles: published on or after 1 Jan 2025; published before 1 Feb 2025; "
        "4 undated articles left out"
    )


def test_the_summary_names_the_outlets_and_those_of_unknown_outlet_left_out(news_qa):
    documents = news_qa.store.documents()
    assert Filters.of({"outlet": ["Metro Wire", "Northern Courier"]}).describe(documents) == (
        "Filtered to 2 of 4 articles: from Metro Wire or Northern Courier; 1 article of unknown outlet left out"
    )
