"""Citations a person can paste, in a real headless Chromium against `python app.py`: a chip names the article by its
outlet, date and line once someone has set what the text does not state in the Library's Article details; else by
its title, shortened; the file only on hover."""

import json

import pytest

from rag.details import SIDECAR
from tests.test_web import ask, open_page, serve

pytestmark = pytest.mark.browser
PLAIN = "000_9cebef51757e5eed.txt"  # states neither outlet, date nor headline; line 20 names the Kremlin spokesperson


@pytest.fixture(scope="module")
def server(tmp_path_factory, articles_index):
    yield from serve(tmp_path_factory.mktemp("citations"), articles_index)


@pytest.fixture(scope="module")
def read_only_server(tmp_path_factory, articles_index):
    yield from serve(tmp_path_factory.mktemp("read-only"), articles_index, "--read-only")


@pytest.fixture
def page(browser, server):
    page = open_page(browser, server[0])
    yield page
    page.close()


def field(name: str) -> str:
    return f"#vb-details-{name} input, #vb-details-{name} textarea"


def test_setting_an_outlet_and_date_in_the_library_names_the_article_in_its_chips(page, server):
    _, root = server
    ask(page, "Who is the Kremlin spokesperson?")
    chip = page.locator(".vb-answer").last.locator(".vb-chip").first
    assert chip.inner_text() == "In a recent interview conducted on… · line 20"  # no outlet: its title, shortened
    assert PLAIN in chip.get_attribute("title")  # the file, on hover only

    page.get_by_role("tab", name="Library").click()
    page.wait_for_selector("#vb-stats :text('5 articles')")
    page.get_by_role("button", name="Article details").click()
    page.click("#vb-details-choice input")
    page.click(f"#vb-details-choice [role=option][aria-label='{PLAIN}']")
    page.wait_for_function(  # what the text states is filled in; what it does not stays empty
        "(document.querySelector('#vb-details-title textarea, #vb-details-title input') || {}).value"
        "?.startsWith('In a recent interview')"
    )
    assert page.locator(field("outlet")).input_value() == ""
    page.fill(field("outlet"), "Kyiv Post")
    page.fill(field("published"), "2024-12-20")
    page.click("#vb-details-save")
    page.wait_for_selector(f"#vb-status :text('saved the details of {PLAIN}')", timeout=60_000)
    assert "outlet, published" in page.locator("#vb-status").inner_text()
    library = page.locator("#vb-library").inner_text()
    assert "Kyiv Post" in library and "2024-12-20" in library
    assert json.loads((root / "corpus" / SIDECAR).read_text()) == {
        PLAIN: {"outlet": "Kyiv Post", "published": "2024-12-20"}
    }

    page.click("#vb-new")
    page.wait_for_function("document.querySelectorAll('.vb-answer, .vb-abstain').length == 0")
    ask(page, "Who is the Kremlin spokesperson?")
    chip = page.locator(".vb-answer").last.locator(".vb-chip").first
    assert chip.inner_text() == "Kyiv Post · 20 Dec 2024 · line 20"
    assert PLAIN in chip.get_attribute("title")
    page.get_by_role("button", name="Settings ▼").click()  # the outlet filter offers the outlet set
    page.click("#vb-outlets input")
    page.wait_for_selector("#vb-outlets [role=option][aria-label='Kyiv Post']")

    page.get_by_role("tab", name="Library").click()  # a bad date is refused and changes nothing
    page.fill(field("published"), "20/12/2024")
    page.click("#vb-details-save")
    page.wait_for_selector("#vb-status :text('not a date')")
    assert json.loads((root / "corpus" / SIDECAR).read_text())[PLAIN]["published"] == "2024-12-20"


def test_a_read_only_library_has_no_details_form(browser, read_only_server):
    page = open_page(browser, read_only_server[0])
    try:
        page.get_by_role("tab", name="Library").click()
        page.wait_for_selector("#vb-stats :text('5 articles')")
        assert page.locator("#vb-details").count() == 0 and page.locator("#vb-details-save").count() == 0
    finally:
        page.close()


def test_the_details_endpoint_sets_checks_and_returns_an_articles_details(server):
    from gradio_client import Client

    url, root = server
    client = Client(url, verbose=False)
    article = "004_cb8e39e41f690045.txt"
    details = client.predict(article, None, "Reuters", "2024-12-19", "A. Writer", None, api_name="/details")
    assert details == {
        "title": "Putin Says He’s Ready to Talk With Trump ‘Anytime’ About Ukraine Peace Deal",  # its headline
        "outlet": "Reuters",
        "published": "2024-12-19",
        "author": "A. Writer",
        "url": None,
    }
    with pytest.raises(Exception, match="not a date"):
        client.predict(article, None, None, "yesterday", api_name="/details")
    with pytest.raises(Exception, match="no article 'missing.txt'"):
        client.predict("missing.txt", None, "Reuters", api_name="/details")
    assert json.loads((root / "corpus" / SIDECAR).read_text())[article]["outlet"] == "Reuters"
    answer = client.predict("What did Putin say about meeting Trump anytime?", api_name="/ask")
    cited = [c for c in answer["citations"] if c["source"] == article]
    assert all(c["outlet"] == "Reuters" and c["published"] == "2024-12-19" for c in cited)
