"""The web page in a real headless Chromium (Debian's), driven by Playwright, against `python app.py`."""

import os
import shutil

import pytest

from eval.bench.server import app_server
from rag.library import MAX_UPLOAD_BYTES
from tests.conftest import ARTICLES, free_port, reader_with

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory, articles_index):
    yield from serve(tmp_path_factory.mktemp("web"), articles_index)


@pytest.fixture(scope="module")
def locked_server(tmp_path_factory, articles_index):
    from rag.access import hash_password

    yield from serve(
        tmp_path_factory.mktemp("locked"),
        articles_index,
        "--auth",
        env={"VERBATIM_AUTH": f"editor:{hash_password(PASSWORD)}"},
    )


PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def in_process(tmp_path_factory, articles_index, qa):
    """The app served from this process over the session's QA, whose reader a test may swap to move its thresholds."""
    yield from serve_in_process(tmp_path_factory.mktemp("in-process"), articles_index, qa)


def serve_in_process(root, articles_index, qa):
    """Serves a copy of the shipped articles and their index from this process over `qa`; yields the page's URL."""
    from rag.library import Library
    from rag.web import ChatService, create_app, launch

    shutil.copytree(ARTICLES, root / "corpus")
    shutil.copytree(articles_index, root / "index")
    demo = create_app(ChatService(Library(root / "corpus", root / "index"), qa))
    port = free_port()
    launch(demo, "127.0.0.1", port, prevent_thread_lock=True, quiet=True)
    yield f"http://127.0.0.1:{port}/"
    demo.close()


def serve(root, articles_index, *options: str, env: dict | None = None):
    """`python app.py` over a copy of the shipped articles and their index, until the module's tests end."""
    shutil.copytree(ARTICLES, root / "corpus")
    shutil.copytree(articles_index, root / "index")
    gradio = {"GRADIO_TEMP_DIR": str(root / "gradio"), **(env or {})}
    with app_server(root / "corpus", root / "index", *options, log=root / "app.log", env=gradio, timeout=180) as (
        url,
        _,
    ):
        yield f"{url}/", root


def open_page(browser, url: str, color_scheme: str = "light", width: int = 1400):
    page = browser.new_page(viewport={"width": width, "height": 900}, color_scheme=color_scheme)
    page.set_default_timeout(30_000)
    page.goto(url)
    page.wait_for_selector("#vb-question textarea")
    return page


@pytest.fixture
def page(browser, server):
    page = open_page(browser, server[0])
    yield page
    page.close()


def upload(page, *paths) -> None:
    """Put files into the upload box and wait until the server has them all (listed with a download link)."""
    page.get_by_role("tab", name="Library").click()
    page.set_input_files("#vb-upload input[type=file]", [str(p) for p in paths])
    page.wait_for_function(f"(document.querySelector('#vb-upload').innerText.match(/⇣/g) || []).length >= {len(paths)}")


def indexed_articles(root) -> int:
    """Articles in the served corpus (every stored upload is indexed; removed ones are in a hidden folder)."""
    return sum(1 for p in (root / "corpus").iterdir() if p.is_file() and not p.name.startswith("."))


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
    chip = answer.locator(".vb-chip").first
    assert chip.inner_text() == "In a recent interview conducted on… · line 20"  # no outlet: its title, shortened
    assert "000_9cebef51757e5eed.txt" in chip.get_attribute("title")
    assert page.locator("#vb-passages .vb-passage").count() == 5
    reading = page.locator("#vb-passages .vb-passage").first.locator(".vb-reading")
    assert reading.locator("q").inner_text() == "Dmitry Peskov" and reading.inner_text().endswith(
        "% likely to hold the answer"
    )
    ask(page, "In which city did Trump address the World Economic Forum?")
    assert page.locator(".vb-answer").last.locator("mark").inner_text() == "Davos"
    assert page.locator("#vb-chat .vb-answer").count() == 2  # the follow-up kept the first answer


def test_a_follow_up_is_read_with_the_conversation_and_a_new_conversation_forgets_it(page, server):
    ask(page, "Who said Putin is trying to manipulate Trump?")
    ask(page, "When did he say it?")
    context = page.locator("#vb-chat .vb-context").last
    assert context.inner_text() == "about: Zelenskyy, from your previous question"
    assert "Zelenskyy" in context.get_attribute("title")
    page.click("#vb-new")
    page.wait_for_function("document.querySelectorAll('#vb-chat .vb-answer, #vb-chat .vb-abstain').length === 0")
    ask(page, "When did he say it?")
    assert page.locator("#vb-chat .vb-context").count() == 0  # a first question: nothing to read it against

    from gradio_client import Client

    client = Client(server[0], verbose=False)
    first = client.predict("Who said Putin is trying to manipulate Trump?", 5, "hybrid", None, api_name="/ask")
    follow = client.predict("When did he say it?", 5, "hybrid", [first], api_name="/ask")
    assert "Zelenskyy" in follow["context"]["question"] and follow["question"] == "When did he say it?"


STATE_QUESTIONS = [
    "In which city did Trump address the World Economic Forum?",
    "What did Putin say about meeting Trump?",
    "How many nuclear warheads does Russia possess?",
]
# WCAG's contrast ratio of an element's text against the first background behind it that is not transparent
CONTRAST = """(element) => {
  const rgb = (color) => color.match(/[\\d.]+/g).map(Number);
  const luminance = (color) => rgb(color).slice(0, 3).map((v) => v / 255)
    .map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4))
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  let behind = element;
  while (behind && rgb(getComputedStyle(behind).backgroundColor)[3] === 0) behind = behind.parentElement;
  const [light, dark] = [getComputedStyle(element).color, getComputedStyle(behind || document.body).backgroundColor]
    .map(luminance).sort((a, b) => b - a);
  return (light + 0.05) / (dark + 0.05);
}"""


def ask_anew(page, question: str):
    """Ask in a new conversation (nothing earlier to read it against); the reply. On a fresh page there is nothing to
    clear: a click on "New conversation" there would race the question and could wipe its reply."""
    if page.locator("#vb-chat .vb-answer, #vb-chat .vb-abstain").count():
        page.click("#vb-new")
        page.wait_for_function("document.querySelectorAll('#vb-chat .vb-answer, #vb-chat .vb-abstain').length === 0")
    ask(page, question)
    return page.locator("#vb-chat .vb-answer, #vb-chat .vb-abstain").last


def test_sure_tentative_and_unanswered_replies_each_have_their_own_box_and_words_readable_light_and_dark(
    browser, in_process, qa, monkeypatch
):
    probability = {q: qa.ask(q).confidence for q in STATE_QUESTIONS}
    sure, unsure, unanswered = sorted(STATE_QUESTIONS, key=probability.get, reverse=True)
    assert probability[sure] > probability[unsure] > probability[unanswered]
    monkeypatch.setattr(
        qa.answer_builder,
        "reader",
        reader_with((probability[unsure] + probability[unanswered]) / 2, (probability[sure] + probability[unsure]) / 2),
    )
    for scheme in ("light", "dark"):
        page = open_page(browser, in_process, scheme)
        try:
            assert page.evaluate("document.body.classList.contains('dark')") == (scheme == "dark")
            answered = ask_anew(page, sure)  # a locator finds the last reply: each is checked before the next question
            assert "vb-answered" in answered.get_attribute("class") and answered.locator(".vb-state").count() == 0
            assert "may not answer" not in answered.inner_text() and answered.locator("blockquote mark").count() == 1
            assert answered.evaluate("e => getComputedStyle(e).borderTopStyle") != "dashed"
            assert answered.locator("blockquote").evaluate(CONTRAST) >= 4.5, scheme
            tentative = ask_anew(page, unsure)
            assert "vb-tentative" in tentative.get_attribute("class") and "vb-answered" not in tentative.get_attribute(
                "class"
            )
            assert tentative.locator(".vb-state").inner_text() == "The articles may not answer this. Closest quote:"
            assert tentative.evaluate("e => getComputedStyle(e).borderTopStyle") == "dashed"
            assert min(tentative.locator(words).evaluate(CONTRAST) for words in (".vb-state", "blockquote")) >= 4.5, (
                scheme
            )
            abstained = ask_anew(page, unanswered)
            assert "The articles do not answer this question." in abstained.inner_text()
            assert "vb-abstain" in abstained.get_attribute("class") and abstained.locator("blockquote").count() == 0
            assert abstained.evaluate(CONTRAST) >= 4.5, scheme
        finally:
            page.close()


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
    upload(page, good, empty, binary)
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
    assert "· line 1" in answer.locator(".vb-chip").first.inner_text()
    assert "harbour_news.txt" in answer.locator(".vb-chip").first.get_attribute("title")


def test_an_upload_is_indexed_in_the_background_while_questions_are_answered(page, server, tmp_path):
    url, root = server
    texts = [p.read_text() for p in sorted(ARTICLES.glob("*.txt"))]
    digest = tmp_path / "digest.txt"  # ~250 KB: several seconds of indexing even on a fast machine
    digest.write_text("\n\n".join(f"Copy {n}\n\n{texts[n % len(texts)]}" for n in range(56)))
    dotfile = tmp_path / ".txt"
    dotfile.write_text("The old mill of Port Ellen closed on Friday after two centuries.")
    upload(page, digest, dotfile)
    page.click("#vb-add")
    page.wait_for_selector(
        "#vb-status :text('Under way: indexing 2 file(s)')", timeout=5_000
    )  # the click returned at once
    ask(page, "Who is the Kremlin spokesperson?")
    assert page.locator(".vb-answer").last.locator("mark").inner_text() == "Dmitry Peskov"
    assert (
        "Under way: indexing" in page.locator("#vb-status").inner_text()
    )  # answered while the upload was being indexed
    page.wait_for_selector("#vb-status :text('added digest.txt')", timeout=180_000)
    assert "added article.txt" in page.locator("#vb-status").inner_text()  # ".txt" stored under a plain name
    assert "digest.txt" in page.locator("#vb-library").inner_text()
    assert f"{indexed_articles(root)} articles" in page.locator("#vb-stats").inner_text()
    umask = os.umask(0)
    os.umask(umask)
    assert (root / "corpus" / "digest.txt").stat().st_mode & 0o777 == 0o666 & ~umask  # not a temp file's 0600
    assert not [p for p in (root / "gradio").rglob("*") if p.is_file()]  # uploads deleted from Gradio's temp folder
    ask(page, "When did the old mill of Port Ellen close?")
    assert "article.txt" in page.locator(".vb-answer").last.locator(".vb-chip").first.get_attribute("title")


def test_a_page_opened_after_an_upload_shows_it_and_can_remove_it(browser, page, server, tmp_path):
    url, root = server
    lighthouse = tmp_path / "lighthouse.txt"
    lighthouse.write_text("The lighthouse keeper of Port Ellen retired on Tuesday after forty-two years of service.")
    upload(page, lighthouse)
    page.click("#vb-add")
    page.wait_for_selector("#vb-status :text('added lighthouse.txt')", timeout=120_000)
    later = open_page(browser, url)
    try:
        later.get_by_role("tab", name="Library").click()
        later.wait_for_selector(f"#vb-stats :text('{indexed_articles(root)} articles')")
        assert "lighthouse.txt" in later.locator("#vb-library").inner_text()
        later.click("#vb-remove-choice input")
        later.click("#vb-remove-choice [role=option][aria-label$='(lighthouse.txt)']")
        later.click("#vb-remove")
        later.click("#vb-remove-yes")
        later.wait_for_selector("#vb-status :text('removed lighthouse.txt')", timeout=120_000)
        assert "lighthouse.txt" not in later.locator("#vb-library").inner_text()
        assert f"{indexed_articles(root)} articles" in later.locator("#vb-stats").inner_text()
        assert (root / "corpus" / ".removed" / "lighthouse.txt").is_file()
    finally:
        later.close()


def test_a_file_over_the_limit_is_refused_with_a_message(page, tmp_path):
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * (MAX_UPLOAD_BYTES + 1))
    page.get_by_role("tab", name="Library").click()
    page.set_input_files("#vb-upload input[type=file]", [str(big)])
    toast = page.wait_for_selector(".toast-body :text('exceed the maximum allowed size')")
    assert "big.txt" in toast.inner_text()


def test_citations_name_the_date_and_the_settings_keep_only_articles_since_a_day(page):
    page.get_by_role("button", name="Settings ▼").click()
    page.fill("#vb-after input, #vb-after textarea", "2024-12-01")
    ask(page, "What did Putin say about meeting Trump?")
    chips = page.locator("#vb-chat .vb-answer").last.locator(".vb-chip")
    assert chips.count() >= 1 and all("19 Dec 2024" in chips.nth(i).inner_text() for i in range(chips.count()))
    assert "003_11d5bc04a0aec479.txt" in chips.first.get_attribute("title")  # the file, on hover
    sources = page.locator("#vb-passages .vb-passage")
    assert all("19 Dec 2024" in sources.nth(i).inner_text() for i in range(sources.count()))
    page.get_by_role("tab", name="Library").click()
    assert page.locator("#vb-library").inner_text().index("2024-12-19") < page.locator(
        "#vb-library"
    ).inner_text().index("000_")


def test_a_locked_library_answers_anyone_but_removes_only_after_a_login(browser, locked_server):
    url, root = locked_server
    page = open_page(browser, url)
    try:
        ask(page, "Who is the Kremlin spokesperson?")
        assert page.locator(".vb-answer").count() == 1  # questions stay open
        page.get_by_role("tab", name="Library").click()
        page.wait_for_selector("#vb-stats :text('5 articles')")
        page.click("#vb-remove-choice input")
        page.click("#vb-remove-choice [role=option][aria-label$='(002_aa8d7564ce6ae218.txt)']")
        page.click("#vb-remove")
        page.wait_for_selector("#vb-status :text('Log in')")
        assert (root / "corpus" / "002_aa8d7564ce6ae218.txt").is_file()
        page.fill("#vb-user input, #vb-user textarea", "editor")
        page.fill("#vb-password input", "wrong password")
        page.click("#vb-login")
        page.wait_for_selector("#vb-status :text('Wrong user or password')")
        page.fill("#vb-password input", PASSWORD)
        page.click("#vb-login")
        page.wait_for_selector("#vb-status :text('Logged in as')")
        page.click("#vb-remove")
        page.click("#vb-remove-yes")
        page.wait_for_selector("#vb-status :text('removed 002_aa8d7564ce6ae218.txt')", timeout=120_000)
        assert not (root / "corpus" / "002_aa8d7564ce6ae218.txt").exists()
    finally:
        page.close()
