"""The page's feedback in a real headless Chromium: what the filters leave, days typed as people write them, the
chat's own clear starting a new conversation, and a follow-up's "about:" line and hover (issue 37)."""

import pytest

from tests.test_web import ask, open_page, server  # noqa: F401 -- server: a fixture

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser, server):  # noqa: F811
    page = open_page(browser, server[0])
    yield page
    page.close()


def set_after(page, typed: str) -> None:
    if not page.locator("#vb-after").is_visible():
        page.get_by_role("button", name="Settings ▼").click()
    page.fill("#vb-after input, #vb-after textarea", typed)


def test_a_filtered_reply_says_what_the_filters_leave_and_days_are_read_as_people_type_them(page, server):  # noqa: F811
    set_after(page, "1 December 2024")
    ask(page, "Who is the Kremlin spokesperson?")
    reply = page.locator("#vb-chat .vb-filtered").last
    assert reply.inner_text() == (
        "Filtered to 1 of 5 articles: published on or after 1 Dec 2024; 4 undated articles left out"
    )  # the spokesperson is named in undated articles: the reply says why they were not read
    set_after(page, "3 Jnu 2025")
    ask(page, "Who is the Kremlin spokesperson?")
    assert page.locator("#vb-chat .vb-abstain").last.inner_text() == (
        "Not answered: Published on or after: Couldn't read “3 Jnu 2025” as a date: write it like 3 Jan 2025"
    )
    set_after(page, "3/1/2025")
    ask(page, "Who is the Kremlin spokesperson?")
    assert page.locator("#vb-chat .vb-abstain").last.inner_text() == (
        "Not answered: Published on or after: “3/1/2025” could be 3 Jan or 1 Mar: write the month as a word, like 3 Jan 2025"
    )
    set_after(page, "")
    ask(page, "Who is the Kremlin spokesperson?")
    assert page.locator("#vb-chat .vb-answer").last.locator("mark").inner_text() == "Dmitry Peskov"
    assert page.locator("#vb-chat .vb-filtered").count() == 1  # unfiltered: nothing said of filters

    from gradio_client import Client

    client = Client(server[0], verbose=False)
    filtered = client.predict(
        "Who is the Kremlin spokesperson?", 5, "hybrid", None, {"after": "1 Dec 2024"}, api_name="/ask"
    )
    assert filtered["filtered"] == (
        "Filtered to 1 of 5 articles: published on or after 1 Dec 2024; 4 undated articles left out"
    )
    unfiltered = client.predict("Who is the Kremlin spokesperson?", 5, "hybrid", None, None, api_name="/ask")
    assert "filtered" not in unfiltered


def test_the_chats_own_clear_starts_a_new_conversation(page):
    ask(page, "Who is the Kremlin spokesperson?")
    page.locator("#vb-chat button[aria-label='Clear']").click()
    page.wait_for_function("document.querySelectorAll('#vb-chat .vb-answer, #vb-chat .vb-abstain').length === 0")
    ask(page, "What did he say?")
    assert page.locator("#vb-chat .vb-context").count() == 0  # not read as about Dmitry Peskov, no longer shown
    assert "Peskov" not in page.locator("#vb-chat").inner_text()


def test_a_follow_up_of_a_bare_why_names_the_question_it_leans_on(page):
    ask(page, "What did Trump ask OPEC to do?")
    ask(page, "Why?")
    ask(page, "What did Putin reply?")
    context = page.locator("#vb-chat .vb-context").last
    assert context.inner_text() == "about: “What did Trump ask OPEC to do?”, from your question 1"
    assert context.get_attribute("title") == "Read with your question 1, “What did Trump ask OPEC to do?”"
