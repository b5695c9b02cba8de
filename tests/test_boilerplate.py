"""Page furniture is recognised and never chunked; article sentences that only mention it stay."""

import json
from pathlib import Path

import pytest

from rag.boilerplate import BoilerplateFinder
from rag.chunking import SentenceChunker
from rag.documents import parse_document

PAGES = Path(__file__).resolve().parent.parent / "eval" / "data" / "pages"
ARTICLES = Path(__file__).resolve().parent.parent / "data" / "articles"


@pytest.mark.parametrize(
    "line",
    [
        "Sign Up For Instant Breaking News Alerts",
        "Subscribe For Free Breaking News Updates!",
        "LEAVE A REPLY",
        "Please enter your comment!",
        "No comments:",
        "Post a Comment",
        "Share on Facebook",
        "Advertisement",
        "© 2025 Metro Wire. All rights reserved.",
        "You may also like",
        "Related: [Other story](https://x.example/a)",
    ],
)
def test_furniture_lines_are_found(line):
    assert BoilerplateFinder().run(f"A sentence of the article that says something.\n{line}\n") == [
        (47, 47 + len(line))
    ]


@pytest.mark.parametrize(
    "sentence",
    [
        "Shares in the company fell 4% after the announcement.",
        "The minister declined to comment.",
        "Residents can sign up for the scheme from March.",
        "Subscribers to the service will pay more from June.",
        "“We have no comments at this stage,” a spokesperson said.",
        "He did not share this view.",
        "Netflix said its subscription price in the UK would rise by £2 a month from today.",
        "The bakery said its cookies use only local butter and eggs.",
        "Top stories in the papers this morning were about the strike at the port.",
        "Copyright lawyers said the ruling would change how artists are paid",
    ],
)
def test_article_sentences_that_mention_it_are_kept(sentence):
    assert BoilerplateFinder().run(sentence) == []


def test_a_list_of_other_stories_after_its_heading_is_furniture_and_the_article_after_it_is_not():
    text = "The council approved the plan on Monday.\nMay you also like it:\nUkraine Reports Missile Attack Kills One\nRussian Strike Damages Embassy\nFAQs\nWhy is the plan late?\n"
    found = [text[a:b] for a, b in BoilerplateFinder().run(text)]
    assert found == [
        "May you also like it:",
        "Ukraine Reports Missile Attack Kills One",
        "Russian Strike Damages Embassy",
    ]


def test_the_shipped_articles_furniture_is_never_chunked_and_offsets_stay_exact():
    furniture = json.loads((PAGES / "shipped.json").read_text(encoding="utf-8"))["furniture"]
    for path in sorted(ARTICLES.glob("*.txt")):
        raw = path.read_bytes()
        document = parse_document(path.name, raw)
        chunked = SentenceChunker().run(document.text, document.blocks)
        assert document.text == raw.decode("utf-8").replace("\r\n", "\n")  # nothing cut out of the text
        assert all(document.text[s.start : s.end] == s.text for s in chunked.sentences)
        for line in furniture.get(path.name, []):
            assert not any(line in c.text for c in chunked.chunks), (
                path.name,
                line,
            )  # nor inside a chunk, between its sentences


def test_on_the_made_pages_most_furniture_is_caught_and_hardly_any_article_text_lost():
    labels = json.loads((PAGES / "labels.json").read_text(encoding="utf-8"))
    indexed_furniture = furniture = dropped = article = 0
    for name, label in labels.items():
        document = parse_document(name, (PAGES / name).read_bytes())
        indexed = " ".join(s.text for s in SentenceChunker().run(document.text, document.blocks).sentences)
        kept = [line for line in label["furniture"] if line in document.text]
        furniture, indexed_furniture = furniture + len(kept), indexed_furniture + sum(line in indexed for line in kept)
        present = [s for s in label["article"] if s in document.text]
        article, dropped = article + len(present), dropped + sum(s not in indexed for s in present)
    assert furniture > 100 and indexed_furniture / furniture < 0.15
    assert article > 300 and dropped / article < 0.02


def test_hard_wrapped_paragraphs_and_tables_of_figures_are_article_text():
    text = (
        "A first sentence of the article, long enough to open it.\n"
        "The council said on Monday that it had agreed to the\nplan for a new tram line, which Mayor Ana Ruiz said\n"
        "Would Be The Best Plan For The City In Years\nand more.\n"
        "Labour 12,345\nConservative 9,876\nGreen 3,210\nTurnout 61%\n"
    )
    assert BoilerplateFinder().run(text) == []


def test_a_wrapped_pdf_keeps_every_line_and_reads_whole_sentences():
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    sentence = (
        "The harbour authority said on Monday that the new crane terminal would open in June 2026, two years later "
        "than planned, because the dredging of the north channel took longer than expected. "
    )
    for _ in range(3):
        pdf.add_page()
        pdf.multi_cell(0, 8, "Port News\n" + (sentence * 3).strip())
    document = parse_document("port.pdf", bytes(pdf.output()))
    sentences = SentenceChunker().run(document.text, document.blocks).sentences
    assert sum(b - a for a, b in document.blocks) >= len(document.text.replace("\n\n", "")) - 10  # nothing dropped
    assert [s.text for s in sentences].count("Port News") == 3
    assert all(s.text.endswith("expected.") for s in sentences if s.text != "Port News")  # never cut at a line end
