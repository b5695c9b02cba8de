"""The Sources cards' HTML: the part of a passage around its answer, the answer marked, the headline and dateline
apart from the body, and no quote mark doubled."""

from rag.metadata import Metadata
from rag.retrieval import Passage
from rag.web.render import render_passages, render_source_card, source_window

BODY = " ".join(f"Filler sentence number {n} says nothing much." for n in range(30))


def test_the_card_shows_the_passage_around_its_answer_marked_with_ellipses_where_cut():
    text = BODY + " Kremlin spokesperson Dmitry Peskov stated on Thursday that talks are possible. " + BODY
    passage = Passage("a.txt", 0, len(text), text, 0.1, 1, answer="Dmitry Peskov", probability=0.62)
    card = render_source_card(passage, 1)
    assert "Kremlin spokesperson <mark>Dmitry Peskov</mark> stated on Thursday" in card
    excerpt = card.split('class="vb-excerpt">')[1]
    assert excerpt.startswith("…") and excerpt.split("</div>")[0].endswith("…")
    assert "62% likely to hold the answer" in card


def test_the_window_keeps_about_its_width_and_cuts_at_words():
    text = BODY + " The answer is Davos, in Switzerland. " + BODY
    window = source_window(text, "Davos", 200)
    plain = window.replace("<mark>", "").replace("</mark>", "")
    assert 150 <= len(plain) <= 205 and "<mark>Davos</mark>" in window
    assert plain[1] != " " and plain[-2] != " " and all(w in text for w in plain.strip("…").split())


def test_an_answer_at_the_end_or_start_is_shown_whole_with_no_ellipsis_on_that_side():
    text = BODY + " It ended in Davos"
    assert source_window(text, "Davos", 120).endswith("<mark>Davos</mark>")
    assert source_window("Davos hosted it. " + BODY, "Davos", 120).startswith("<mark>Davos</mark> hosted")


def test_headline_and_dateline_stand_apart_from_the_body():
    text = "Thursday, 19 December 2024\n\nPutin Signals Readiness for Talks\n\nRussian President Vladimir Putin spoke."
    passage = Passage(
        "b.txt",
        0,
        len(text),
        text,
        0.1,
        2,
        answer="Vladimir Putin",
        probability=0.3,
        meta=Metadata("Putin Signals Readiness for Talks", "Reuters", "2024-12-19"),
    )
    card = render_source_card(passage, 2)
    assert '<div class="vb-dateline">Thursday, 19 December 2024</div>' in card
    assert '<div class="vb-headline">Putin Signals Readiness for Talks</div>' in card
    excerpt = card.split('class="vb-excerpt">')[1]
    assert excerpt.startswith("Russian President <mark>Vladimir Putin</mark> spoke.")
    assert "December" not in excerpt


def test_a_passage_of_sentences_has_no_heading():
    text = "Putin spoke on Thursday.\nHe said talks are possible.\nNothing more."
    card = render_source_card(Passage("c.txt", 10, 70, text, 0.1, 3, answer="Thursday", probability=0.2), 1)
    assert "vb-headline" not in card and "vb-dateline" not in card


def test_quote_marks_the_text_has_are_not_doubled():
    text = "He said: “We do not perceive this as a threat,” on Monday."
    passage = Passage("d.txt", 0, len(text), text, 0.1, 4, answer="“We do not perceive this", probability=0.5)
    card = render_passages([passage])
    assert '<q class="vb-q-open">“We do not perceive this</q>' in card
    assert "““" not in card and "&ldquo;&ldquo;" not in card


def test_text_and_answer_are_escaped():
    text = "The <script>alert(1)</script> said <b>yes</b> today."
    card = render_source_card(Passage("e.txt", 0, len(text), text, 0.1, 5, answer="<b>yes</b>", probability=0.5), 1)
    assert "<script>" not in card and "<mark>&lt;b&gt;yes&lt;/b&gt;</mark>" in card


def test_an_unread_passage_shows_its_start():
    card = render_source_card(Passage("f.txt", 0, len(BODY), BODY, 0.1, 6), 3)
    assert "not read" in card and "<mark>" not in card and "Filler sentence number 0" in card
