"""The web page in a real headless Chromium (Debian's), driven by Playwright, against `python app.py`."""

import os
import shutil
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import ARTICLES, ROOT, free_port

pytestmark = pytest.mark.browser
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def server(tmp_path_factory, articles_index):
    root = tmp_path_factory.mktemp("web")
    shutil.copytree(ARTICLES, root / "corpus")
    shutil.copytree(articles_index, root / "index")
    port = free_port()
    log = open(root / "app.log", "w")
    process = subprocess.Popen(
        [sys.executable, "app.py", "--corpus", str(root / "corpus"), "--index-dir", str(root / "index"), "--port", str(port)],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 180
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            if process.poll() is not None:
                pytest.fail("app.py exited:\n" + (root / "app.log").read_text())
            time.sleep(0.5)
    else:
        pytest.fail("app.py did not start:\n" + (root / "app.log").read_text())
    yield url, root
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (scripts/test.sh installs Debian's chromium)")
        pytest.skip("chromium is not installed: run scripts/test.sh, which installs it")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, server):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.set_default_timeout(30_000)
    page.goto(server[0])
    page.wait_for_selector("#vb-question textarea")
    yield page
    page.close()


def ask(page, question: str) -> None:
    answers = page.locator(".vb-answer, .vb-abstain").count()
    page.fill("#vb-question textarea", question)
    page.click("#vb-ask")
    page.wait_for_function(f"document.querySelectorAll('.vb-answer, .vb-abstain').length > {answers}")


def test_question_shows_quote_span_and_citation_and_keeps_history(page):
    ask(page, "Who is the Kremlin spokesperson?")
    answer = page.locator(".vb-answer").last
    assert "Kremlin spokesperson Dmitry Peskov stated on Thursday" in answer.locator("blockquote").inner_text()
    assert answer.locator("mark").inner_text() == "Dmitry Peskov"
    assert "000_9cebef51757e5eed.txt · line 20" in answer.locator(".vb-chip").first.inner_text()
    assert page.locator("#vb-passages .vb-passage").count() == 5
    reading = page.locator("#vb-passages .vb-passage").first.locator(".vb-reading")
    assert reading.locator("q").inner_text() == "Dmitry Peskov" and reading.inner_text().endswith("% likely")
    ask(page, "In which city did Trump address the World Economic Forum?")
    assert page.locator(".vb-answer").last.locator("mark").inner_text() == "Davos"
    assert page.locator("#vb-chat .vb-answer").count() == 2  # the follow-up kept the first answer


def test_clicking_a_citation_opens_the_article_with_the_span_highlighted_in_view(page):
    ask(page, "Who is the Kremlin spokesperson?")
    page.locator(".vb-answer .vb-chip").first.click()
    hit = page.wait_for_selector("#vb-article #vb-hit")
    assert hit.inner_text().startswith("Kremlin spokesperson Dmitry Peskov stated on Thursday")
    assert "In a recent interview conducted on Russian state television" in page.locator("#vb-article").inner_text()
    page.wait_for_timeout(600)
    in_view = page.evaluate("""() => {
        const hit = document.querySelector('#vb-hit').getBoundingClientRect();
        const panel = document.querySelector('.vb-article').getBoundingClientRect();
        return hit.top >= panel.top && hit.bottom <= panel.bottom && hit.top >= 0 && hit.bottom <= window.innerHeight;
    }""")
    assert in_view


def test_clicking_a_passage_opens_its_article(page):
    ask(page, "Why has Zelensky's presidential term been prolonged?")
    page.locator("#vb-passages .vb-passage").nth(1).click()
    hit = page.wait_for_selector("#vb-article #vb-hit")
    assert len(hit.inner_text()) > 40


def test_unanswerable_question_is_said_plainly_with_closest_passages(page):
    ask(page, "How many nuclear warheads does Russia possess?")
    reply = page.locator(".vb-abstain").last
    assert "The articles do not answer this question." in reply.inner_text()
    assert reply.locator(".vb-chip").count() == 3


def test_upload_then_ask_about_it_and_bad_files_are_rejected(page, server, tmp_path):
    good = tmp_path / "harbour news.txt"
    good.write_text("The harbour master of Port Ellen announced on Monday that the ferry pier will reopen in May.")
    empty = tmp_path / "empty.md"
    empty.write_text("   ")
    binary = tmp_path / "scan.txt"
    binary.write_bytes(bytes(range(256)) * 8)
    page.get_by_role("tab", name="Library").click()
    page.set_input_files("#vb-upload input[type=file]", [str(good), str(empty), str(binary)])
    page.wait_for_function(  # all three uploaded to the server: listed with their size and download link
        """() => { const text = document.querySelector('#vb-upload').innerText;
                   return ['harbour news', 'empty', 'scan'].every(n => text.includes(n)) && (text.match(/⇣/g) || []).length >= 3; }""")
    page.click("#vb-add")
    page.wait_for_selector("#vb-status :text('added')", timeout=120_000)
    text = page.locator("#vb-status").inner_text()
    assert "added harbour_news.txt" in text
    assert "rejected empty.md: empty file" in text and "rejected scan.txt: binary file" in text
    assert "harbour_news.txt" in page.locator("#vb-library").inner_text()
    assert (server[1] / "corpus" / "harbour_news.txt").is_file()
    ask(page, "When will the ferry pier at Port Ellen reopen?")
    answer = page.locator(".vb-answer").last
    assert answer.locator("mark").inner_text() == "May"
    assert "harbour_news.txt · line 1" in answer.locator(".vb-chip").first.inner_text()
