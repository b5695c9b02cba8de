"""Copying and exporting as text, and how the chat starts: the plain-text and Markdown functions on their own, then
the page in a real headless Chromium (Debian's) against `python app.py` over the shipped articles."""

import pytest

from rag.metadata import Metadata
from rag.web.text import answer_text, citation_text, cited_as, conversation_markdown, library_line
from tests.test_web import ask, serve


def citation(**fields) -> dict:
    """A citation as `Answer.to_dict()` gives it."""
    base = {
        "source": "001_x.txt",
        "start": 0,
        "end": 10,
        "line": 20,
        "quote": "Putin said it.",
        "page": None,
        "span": None,
        "agrees": True,
        "title": None,
        "outlet": None,
        "published": None,
        "author": None,
        "url": None,
    }
    return base | fields


def answer(question: str, text: str, state: str = "answered", citations=(), context=None, passages=()) -> dict:
    return {
        "question": question,
        "text": text,
        "state": state,
        "confidence": 0.9,
        "citations": list(citations),
        "passages": list(passages),
        "span": None,
        "context": context,
        "abstained": state == "abstained",
    }


def test_a_citation_names_outlet_and_date_else_the_title_and_always_file_and_line_or_page():
    assert cited_as(citation(outlet="The Independent", published="2024-12-19")) == (
        "The Independent, 19 Dec 2024 (001_x.txt, line 20)"
    )
    assert cited_as(citation(title="Putin talks", outlet=None)) == "Putin talks (001_x.txt, line 20)"
    assert cited_as(citation(outlet="Reuters", title="Putin talks", page=3)) == "Reuters (001_x.txt, page 3)"
    assert cited_as(citation(published="2025-01-23")) == "23 Jan 2025 (001_x.txt, line 20)"
    assert cited_as(citation()) == "001_x.txt, line 20"
    assert citation_text(citation(outlet="The Independent", published="2024-12-19")) == (
        "“Putin said it.” — The Independent, 19 Dec 2024 (001_x.txt, line 20)"
    )


def test_an_answer_as_text_is_its_state_quote_and_citations_and_an_abstention_names_the_closest_articles():
    sure = answer(
        "Who?",
        "Putin said it.",
        citations=[
            citation(outlet="The Independent"),
            citation(source="002_y.txt", line=4, quote="He did say it.", outlet="Reuters"),
            citation(source="003_z.txt", line=1, quote="Peskov said it.", agrees=False),
        ],
    )
    assert answer_text(sure) == (
        "“Putin said it.”\n"
        "— The Independent (001_x.txt, line 20)\n"
        "— Reuters (002_y.txt, line 4): “He did say it.”\n"
        "The articles differ:\n"
        "— 003_z.txt, line 1: “Peskov said it.”"
    )
    unsure = answer("Who?", "Putin said it.", state="tentative", citations=[citation()])
    assert answer_text(unsure) == (
        "The articles may not answer this. Closest quote:\n“Putin said it.”\n— 001_x.txt, line 20"
    )
    none = answer(
        "How many?", "", state="abstained", passages=[{"source": "004_w.txt", "title": "Talks", "outlet": None}]
    )
    assert answer_text(none) == "The articles do not answer this question.\nClosest articles:\n— Talks (004_w.txt)"


def test_a_conversation_as_markdown_has_questions_readings_quotes_and_citations_escaped():
    first = answer("Who is *the* spokesperson?", "Peskov said <no>.", citations=[citation(quote="Peskov said <no>.")])
    context = {
        "question": "When did Peskov say it?",
        "about": "Peskov",
        "turn": 0,
        "how": "pronoun",
        "source": "001_x.txt",
        "offset": 0,
        "carried": "",
    }
    follow = answer("When did he say it?", "On Thursday.", citations=[citation(quote="On Thursday.")], context=context)
    none = answer("How many warheads?", "", state="abstained")
    assert conversation_markdown([first, follow, none]) == (
        "# Verbatim conversation\n\n"
        "## 1. Who is \\*the\\* spokesperson?\n\n"
        "> “Peskov said \\<no\\>.”\n\n"
        "- 001_x.txt, line 20\n\n"
        "## 2. When did he say it?\n\n"
        "*Read as: When did Peskov say it? (about: Peskov, from your previous question)*\n\n"
        "> “On Thursday.”\n\n"
        "- 001_x.txt, line 20\n\n"
        "## 3. How many warheads?\n\n"
        "The articles do not answer this question.\n"
    )


def test_the_library_line_counts_articles_dates_and_outlets_saying_what_is_unknown():
    assert library_line([]) == "The library is empty: add articles in the Library tab."
    metas = [
        Metadata(outlet="Reuters", published="2025-01-23"),
        Metadata(outlet="The Independent", published="2024-12-19"),
        Metadata(outlet="The Independent"),
        Metadata(),
    ]
    assert library_line(metas) == (
        "4 articles · published 19 Dec 2024 – 23 Jan 2025 · 2 undated · from Reuters, The Independent "
        "(1 with no outlet named)"
    )
    assert library_line([Metadata()]) == "1 article · 1 undated · no outlet named"


# ---- the page, in a real browser -------------------------------------------------------------------------------


KREMLIN = "Who is the Kremlin spokesperson?"
QUOTE = (
    "Kremlin spokesperson Dmitry Peskov stated on Thursday, “We do not perceive anything new in this context,” "
    "when asked about Trump’s economic ultimatums."
)
TITLE_000 = "In a recent interview conducted on Russian state television, Russian President Vladimir P…"
TITLE_002 = "Russia has expressed its willingness to engage in discussions with the United States rega…"
PESKOV_002 = "On Thursday, January 23, Russian President Vladimir Putin’s spokesperson, Dmitry Peskov, confirmed this."


@pytest.fixture(scope="module")
def server(tmp_path_factory, articles_index):
    yield from serve(tmp_path_factory.mktemp("web-copy"), articles_index)


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server[0].rstrip("/"))
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(server[0])
    page.wait_for_selector("#vb-question textarea")
    yield page
    context.close()


def clipboard_after(page, button) -> str:
    page.evaluate("navigator.clipboard.writeText('')")
    button.click()
    page.wait_for_function("navigator.clipboard.readText().then((t) => t.length > 0)")
    return page.evaluate("navigator.clipboard.readText()")


@pytest.mark.browser
def test_copy_answer_and_copy_citation_give_plain_text_and_no_gradio_copy_or_share_buttons(page):
    ask(page, KREMLIN)
    assert clipboard_after(page, page.locator("#vb-chat .vb-copy-answer").last) == (
        "The articles may not answer this. Closest quote:\n"
        f"“{QUOTE}”\n"
        f"— {TITLE_000} (000_9cebef51757e5eed.txt, line 20)\n"
        f"— {TITLE_002} (002_aa8d7564ce6ae218.txt, line 1): “{PESKOV_002}”"
    )
    assert clipboard_after(page, page.locator("#vb-chat .vb-copy-citation").first) == (
        f"“{QUOTE}” — {TITLE_000} (000_9cebef51757e5eed.txt, line 20)"
    )
    assert page.locator("#vb-chat .vb-copy-citation").count() == 2  # one per chip
    # Gradio's own buttons copied HTML; its share button did nothing: the chat's only buttons are ours
    assert page.locator("#vb-chat button.vb-copy").count() == 3
    others = page.locator("#vb-chat button:not(.vb-copy)")
    assert [others.nth(i).get_attribute("aria-label") for i in range(others.count())] == ["Clear"]
    page.click("#vb-chat button[aria-label='Clear']")  # forgets the conversation: nothing left to download
    page.wait_for_function("document.querySelector('#vb-download').disabled")
    page.locator("#vb-chat #vb-library-line").wait_for()
    assert page.locator("#vb-chat [aria-label*='hare' i], #vb-chat [title*='hare' i]").count() == 0


@pytest.mark.browser
def test_a_conversation_downloads_as_markdown_with_the_follow_up_reading(page):
    assert page.locator("#vb-download").is_disabled()  # nothing to download yet
    ask(page, KREMLIN)
    ask(page, "When did he say it?")
    page.wait_for_function("!document.querySelector('#vb-download').disabled")
    with page.expect_download() as download:
        page.click("#vb-download")
    assert download.value.suggested_filename == "verbatim-conversation.md"
    text = open(download.value.path(), encoding="utf-8").read()
    assert clipboard_after(page, page.locator("#vb-copy-all")) == text
    first_citations = (
        f"- {TITLE_000} (000\\_9cebef51757e5eed.txt, line 20)\n- {TITLE_002} (002\\_aa8d7564ce6ae218.txt, line 1): “{PESKOV_002}”\n"
    ).replace("\\_", "_")
    assert text == (
        "# Verbatim conversation\n\n"
        f"## 1. {KREMLIN}\n\n"
        "**The articles may not answer this. Closest quote:**\n\n"
        f"> “{QUOTE}”\n\n"
        f"{first_citations}\n"
        "## 2. When did he say it?\n\n"
        "*Read as: When did Dmitry Peskov say it (Kremlin spokesperson)? "
        "(about: Dmitry Peskov, from your previous question)*\n\n"
        "**The articles may not answer this. Closest quote:**\n\n"
        f"> “{QUOTE}”\n\n"
        f"{first_citations}"
        "- Putin Says He’s Ready to Talk With Trump ‘Anytime’ About Ukraine Peace Deal (004_cb8e39e41f690045.txt, "
        "line 1): “Russian President Vladimir Putin stated on Thursday that he is ready to meet with U.S. "
        "President-elect Donald Trump “anytime” to discuss a potential peace deal for Ukraine.”\n"
    )


@pytest.mark.browser
def test_the_empty_chat_says_what_the_library_holds_and_an_example_asks_when_clicked(page):
    line = page.locator("#vb-chat #vb-library-line")
    line.wait_for()
    assert line.inner_text() == "5 articles · published 19 Dec 2024 · 4 undated · no outlet named"
    refusal = page.get_by_text("Refusal: How many nuclear warheads does Russia possess?", exact=True)
    assert refusal.count() == 1
    page.get_by_text("In which city did Trump address the World Economic Forum?", exact=True).click()
    page.wait_for_selector("#vb-chat .vb-answer mark")
    assert page.locator("#vb-chat .vb-answer mark").last.inner_text() == "Davos"
    refusal.click()
    page.wait_for_selector("#vb-chat .vb-abstain")
    assert "The articles do not answer this question." in page.locator("#vb-chat .vb-abstain").last.inner_text()


def test_every_example_answers_surely_but_those_labelled_as_refusals(qa):
    from rag.web.page import EXAMPLES, REFUSALS

    states = {question: qa.ask(question).state for question in EXAMPLES}
    assert states == {q: "abstained" if q in REFUSALS else "answered" for q in EXAMPLES}


@pytest.fixture(scope="module")
def changing_server(tmp_path_factory, articles_index):
    """A server of its own, whose library the test changes."""
    yield from serve(tmp_path_factory.mktemp("web-copy-changing"), articles_index)


@pytest.mark.browser
def test_the_empty_chat_says_what_the_library_holds_after_it_changes_and_keeps_the_conversation(
    browser, changing_server, tmp_path
):
    from tests.test_web import upload

    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.set_default_timeout(60_000)
    page.goto(changing_server[0])
    line = page.locator("#vb-chat #vb-library-line")
    line.wait_for()
    ask(page, KREMLIN)
    article = tmp_path / "digest.md"
    article.write_text(
        "---\ntitle: Kyiv digest\noutlet: Reuters\npublished: 2025-01-23\n---\nKyiv was quiet on Thursday.\n",
        encoding="utf-8",
    )
    upload(page, article)
    page.click("#vb-add")
    page.wait_for_selector("#vb-status :text('added digest.md')", timeout=180_000)
    page.wait_for_function("document.querySelector('#vb-library').innerText.includes('digest.md')")
    assert page.locator("#vb-chat .vb-answer").count() == 1  # the conversation stays as it was
    page.click("#vb-new")
    line.wait_for()
    page.wait_for_function("document.querySelector('#vb-library-line').innerText.startsWith('6 articles')")
    assert line.inner_text() == (
        "6 articles · published 19 Dec 2024 – 23 Jan 2025 · 4 undated · from Reuters (5 with no outlet named)"
    )
    page.close()
