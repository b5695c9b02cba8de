"""What the chat renders is escaped: article or user text can never become live HTML or Markdown."""

from app import render_answer, render_article, render_passages
from rag.answers import Answer, Citation, Span
from rag.retrieval import Passage
from rag.store import StoredDocument

TEXT = 'Title\n\nThe <script>alert(1)</script> [link](http://x) line.\n\nNext **line** <img src=x onerror=alert(2)>.'


def test_answer_html_escapes_text_and_keeps_one_html_block():
    quote = TEXT[7:]
    start = 7 + quote.index("line.")
    answer = Answer("q", quote, False, 0.9, [Citation("a.txt", 7, len(TEXT), 3, quote)], [], Span("line", start, start + 4))
    rendered = render_answer(answer)
    assert "<script>" not in rendered and "<img" not in rendered and "&lt;script&gt;" in rendered
    assert "\n" not in rendered.split("<blockquote>")[1].split("</blockquote>")[0]
    assert "<mark>line</mark>" in rendered


def test_article_html_escapes_and_marks_the_span():
    document = StoredDocument("a.txt", "<b>Title</b>", TEXT, "0" * 64, 1)
    rendered = render_article(document, 0, 5)
    assert '<mark id="vb-hit">Title</mark>' in rendered
    assert "<script>" not in rendered and "<b>Title</b>" not in rendered


def test_sources_show_the_readers_answer_and_probability_not_fusion_scores():
    read = Passage("a.txt", 0, 20, "Peskov <b>said</b> so.", 0.0325, 1, answer="Peskov <b>", probability=0.4236)
    unread = Passage("b.txt", 0, 9, "Elsewhere", 0.0161, 2)
    rendered = render_passages([read, unread])
    assert "answer here: <q>Peskov &lt;b&gt;</q> · 42% likely" in rendered
    assert "not read" in rendered and "0.032" not in rendered and "<b>said" not in rendered
