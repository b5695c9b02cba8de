"""What the chat renders is escaped: article or user text can never become live HTML or Markdown."""

from rag.answers import NOT_ANSWERED, Answer, Citation, Span
from rag.metadata import Metadata
from rag.retrieval import Passage
from rag.store import StoredDocument
from rag.web.render import render_answer, render_article, render_passages

TEXT = "Title\n\nThe <script>alert(1)</script> [link](http://x) line.\n\nNext **line** <img src=x onerror=alert(2)>."


def test_answer_html_escapes_text_and_keeps_one_html_block():
    quote = TEXT[7:]
    start = 7 + quote.index("line.")
    answer = Answer(
        "q", quote, "answered", 0.9, [Citation("a.txt", 7, len(TEXT), 3, quote)], [], Span("line", start, start + 4)
    )
    rendered = render_answer(answer)
    assert "<script>" not in rendered and "<img" not in rendered and "&lt;script&gt;" in rendered
    assert "\n" not in rendered.split("<blockquote>")[1].split("</blockquote>")[0]
    assert "<mark>line</mark>" in rendered


def test_article_html_escapes_and_marks_the_span():
    document = StoredDocument("a.txt", TEXT, "0" * 64, 1, Metadata(title="<b>Title</b>"))
    rendered = render_article(document, 0, 5)
    assert '<mark id="vb-hit">Title</mark>' in rendered
    assert "<script>" not in rendered and "<b>Title</b>" not in rendered


def test_sources_show_the_readers_answer_and_probability_not_fusion_scores():
    read = Passage("a.txt", 0, 20, "Peskov <b>said</b> so.", 0.0325, 1, answer="Peskov <b>", probability=0.4236)
    unread = Passage("b.txt", 0, 9, "Elsewhere", 0.0161, 2)
    rendered = render_passages([read, unread])
    assert "answer here: <q>Peskov &lt;b&gt;</q> · 42% likely to hold the answer" in rendered
    assert "not read" in rendered and "0.032" not in rendered and "<b>said" not in rendered


def test_citations_name_outlet_and_date_and_differing_articles_stand_side_by_side():
    said = "The bridge will reopen on Monday."
    other = "The bridge will reopen on Friday."
    answer = Answer(
        "q",
        said,
        "tentative",
        0.6,
        [
            Citation(
                "ledger.md",
                0,
                len(said),
                2,
                said,
                Metadata("Bridge <i>works</i>", "The Daily Ledger", "2024-12-10"),
                span=Span("Monday", 26, 32),
            ),
            Citation(
                "wire.md",
                0,
                len(other),
                2,
                other,
                Metadata("Bridge", "Metro Wire", "2025-01-20"),
                span=Span("Friday", 26, 32),
                agrees=False,
            ),
        ],
        [],
        Span("Monday", 26, 32),
    )
    rendered = render_answer(answer)
    assert (
        "The Daily Ledger · 10 Dec 2024 · line 2" in rendered
        and 'title="open Bridge &lt;i&gt;works&lt;/i&gt; · ledger.md"' in rendered
    )
    differ = rendered.split('class="vb-differ"')[1]
    assert (
        "The articles differ" in differ
        and "Metro Wire · 20 Jan 2025" in differ
        and "<q>Friday</q>" in differ
        and "<q>Monday</q>" in differ
    )


def test_the_article_tab_shows_title_outlet_date_and_a_link_only_to_the_web():
    document = StoredDocument(
        "a.txt", TEXT, "0" * 64, 1, Metadata("Title", "Metro Wire", "2025-01-20", "Jane Doe", "https://metro.example/a")
    )
    rendered = render_article(document, 0, 5)
    assert "Metro Wire · 20 Jan 2025 · Jane Doe · a.txt" in rendered and 'href="https://metro.example/a"' in rendered
    assert "href" not in render_article(
        StoredDocument("a.txt", TEXT, "0" * 64, 1, Metadata("T", url="javascript:alert(1)")), 0, 5
    )


def test_each_state_has_its_own_box_and_only_a_tentative_quote_is_headed_as_one_that_may_not_answer():
    said = "Peskov said so."
    citation = Citation("a.txt", 0, len(said), 1, said)
    passage = Passage("a.txt", 0, len(said), said, 0.03, 1, answer="Peskov", probability=0.4)
    sure, unsure = (
        render_answer(Answer("q", said, state, 0.4, [citation], [passage])) for state in ("answered", "tentative")
    )
    refused = render_answer(Answer("q", "", "abstained", 0.4, passages=[passage]))
    assert sure.startswith('<div class="vb-answer vb-answered"><blockquote>') and "may not answer" not in sure
    assert unsure.startswith(
        '<div class="vb-answer vb-tentative"><div class="vb-state">The articles may not answer this. '
        "Closest quote:</div><blockquote>"
    )
    assert (
        refused.startswith(f'<div class="vb-abstain"><strong>{NOT_ANSWERED}</strong>') and "<blockquote>" not in refused
    )
    assert all("40% likely to hold the answer" in rendered for rendered in (sure, unsure, refused))
