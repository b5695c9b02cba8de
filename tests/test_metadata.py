"""Each format's title, outlet, date, author and URL: from HTML metadata, front matter, or the text; never invented."""

import json
from pathlib import Path

import pytest

from rag.documents import parse_document
from rag.metadata import TextMetadata, front_matter, iso_date

PAGES = Path(__file__).resolve().parent.parent / "eval" / "data" / "pages"
LABELS = json.loads((PAGES / "labels.json").read_text(encoding="utf-8"))
FIELDS = ("title", "outlet", "published", "author", "url")


def test_html_metadata_comes_from_the_page_and_the_headline_from_its_one_h1():
    html = b"""<html><head><title>Tram plan | Metro Wire</title><meta property="og:site_name" content="Metro Wire">
    <meta name="author" content="Jane Doe"><meta property="article:published_time" content="2025-01-23T09:00:00Z">
    <link rel="canonical" href="https://metrowire.example/trams"></head><body><article><h1>Night Trams Return to the City</h1>
    <p>Night trams will run again from March, the city council said on Thursday after a vote.</p></article></body></html>"""
    document = parse_document("trams.html", html)
    assert document.meta.astuple() == (
        "Night Trams Return to the City",
        "Metro Wire",
        "2025-01-23",
        "Jane Doe",
        "https://metrowire.example/trams",
    )


def test_front_matter_gives_the_metadata_and_is_never_chunked():
    text = (
        "---\ntitle: Rail strike dates\noutlet: Transport Today\npublished: 2025-02-03\nauthor: [Ann Lee, Bo Kim]\n---\n"
        "# Rail Workers Announce Strikes\nDrivers will strike on three days in February, the union said.\n"
    )
    document = parse_document("strike.md", text.encode())
    assert document.meta.astuple() == ("Rail strike dates", "Transport Today", "2025-02-03", "Ann Lee, Bo Kim", None)
    assert all(start >= text.index("# Rail") for start, _ in document.blocks)
    assert front_matter("---\n: not yaml [\n---\nText.")[1] == 0  # a broken block is left as text


def test_plain_text_gives_its_headline_dateline_and_byline_and_leaves_the_rest_unknown():
    text = (
        "Thursday, 19 December 2024\n\nPutin Signals Readiness for Talks\n\nBy Jane Doe, Moscow Correspondent\n\n"
        "Russian President Vladimir Putin has said he is ready to talk.\n"
    )
    meta, headline = TextMetadata().run(text)
    assert (meta.title, meta.published, meta.author, meta.outlet, meta.url) == (
        "Putin Signals Readiness for Talks",
        "2024-12-19",
        "Jane Doe",
        None,
        None,
    )
    assert text[slice(*headline)] == meta.title
    blocks = [
        text[a:b] for a, b in parse_document("putin.txt", text.encode()).blocks
    ]  # quotable: "When was it published?"
    assert blocks[:3] == [
        "Thursday, 19 December 2024",
        "Putin Signals Readiness for Talks",
        "By Jane Doe, Moscow Correspondent",
    ]
    untitled = TextMetadata().run(
        "Putin said on Thursday that he is ready to meet Trump at any time, his spokesman added."
    )[0]
    assert untitled.title is None and untitled.published is None  # nothing stated, nothing invented


def test_a_headline_glued_to_the_first_sentence_ends_a_sentence_of_its_own():
    line = "Putin Says He’s Ready to Talk With Trump ‘Anytime’ About Ukraine Peace Deal Russian President Vladimir Putin stated on Thursday that he is ready."
    document = parse_document("glued.txt", line.encode())
    assert document.meta.title == "Putin Says He’s Ready to Talk With Trump ‘Anytime’ About Ukraine Peace Deal"
    assert [line[a:b] for a, b in document.blocks][1].startswith("Russian President Vladimir Putin stated")


@pytest.mark.parametrize(
    "value, day",
    [
        ("2025-01-23T10:00:00+02:00", "2025-01-23"),
        ("January 23, 2025", "2025-01-23"),
        ("Thursday, 19 December 2024", "2024-12-19"),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_dates_are_read_as_iso_days_or_not_at_all(value, day):
    assert iso_date(value) == day


def test_the_made_pages_metadata_is_read_right_in_every_format():
    right = {field: [] for field in FIELDS}
    for name, labels in LABELS.items():
        document = parse_document(name, (PAGES / name).read_bytes())
        for field in FIELDS:
            right[field].append((getattr(document.meta, field) or None) == labels[field])
    assert all(sum(v) >= len(v) - 1 for v in right.values()), {f: f"{sum(v)}/{len(v)}" for f, v in right.items()}
    assert {Path(n).suffix for n in LABELS} == {".html", ".txt", ".md"}


def test_a_sentence_is_no_byline_and_a_copyright_sentence_no_outlet():
    meta, _ = TextMetadata().run(
        "By Tuesday, the river had burst its banks across the whole valley, officials said.\n"
        "Copyright lawyers said the ruling would change how artists are paid."
    )
    assert meta.author is None and meta.outlet is None


def test_a_front_matter_date_that_is_no_day_is_unknown_and_the_rest_is_kept():
    document = parse_document(
        "bad-date.md", b"---\ntitle: Bridge works\npublished: 2024-02-30\n---\nThe bridge reopened on Friday.\n"
    )
    assert document.meta.title == "Bridge works" and document.meta.published is None
