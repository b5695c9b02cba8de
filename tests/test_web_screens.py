"""Every screen of the page in a real headless Chromium: Sources cards that show their answer, readable contrast in
dark mode, a 420 px wide phone layout, and a Library that can be read, sorted, and undone."""

import pytest

from tests.conftest import reader_with
from tests.test_web import CONTRAST, STATE_QUESTIONS, ask, ask_anew, open_page, serve, serve_in_process

pytestmark = pytest.mark.browser
DOUBLED = ("““", "””", '""', "„„")


@pytest.fixture(scope="module")
def app(tmp_path_factory, articles_index):
    yield from serve(tmp_path_factory.mktemp("screens"), articles_index)


@pytest.fixture(scope="module")
def app_in_process(tmp_path_factory, articles_index, qa):
    """Served from this process over the session's QA, whose reader a test swaps to move its thresholds."""
    yield from serve_in_process(tmp_path_factory.mktemp("screens-in-process"), articles_index, qa)


# every Library column header whole on its line: none cut ("passa") or broken inside a word ("ch/un/ks")
HEADERS_FIT = """() => [...document.querySelectorAll('#vb-library th .header')]
    .every((e) => e.scrollWidth <= e.clientWidth + 1 && e.getBoundingClientRect().height < 30)"""


def test_source_cards_show_the_answer_highlighted_in_its_window_without_doubled_quotes(browser, app):
    page = open_page(browser, app[0])
    try:
        ask(page, "Who is the Kremlin spokesperson?")
        card = page.locator("#vb-passages .vb-passage").first
        assert card.locator(".vb-excerpt mark").inner_text() == "Dmitry Peskov"
        assert "Kremlin spokesperson Dmitry Peskov stated" in card.locator(".vb-excerpt").inner_text()
        assert card.locator(".vb-reading").inner_text().endswith("% likely to hold the answer")
        ask(page, "What did Putin say about meeting Trump?")
        cards = page.locator("#vb-passages .vb-passage")
        for i in range(cards.count()):
            text = cards.nth(i).inner_text()
            assert not any(doubled in text for doubled in DOUBLED), text
            if cards.nth(i).locator(".vb-reading q").count():
                assert cards.nth(i).locator(".vb-excerpt mark").count() == 1
        chat = page.locator("#vb-chat").inner_text()
        assert not any(doubled in chat for doubled in DOUBLED)
    finally:
        page.close()


def test_every_state_and_grey_line_is_readable_in_dark_mode(browser, app_in_process, qa, monkeypatch):
    probability = {q: qa.ask(q).confidence for q in STATE_QUESTIONS}
    sure, unsure, unanswered = sorted(STATE_QUESTIONS, key=probability.get, reverse=True)
    monkeypatch.setattr(
        qa.answer_builder,
        "reader",
        reader_with((probability[unsure] + probability[unanswered]) / 2, (probability[sure] + probability[unsure]) / 2),
    )
    for scheme in ("dark", "light"):
        page = open_page(browser, app_in_process, scheme)
        try:
            assert page.evaluate("document.body.classList.contains('dark')") == (scheme == "dark")
            ratios = {}
            for state, question in (("answered", sure), ("tentative", unsure), ("abstained", unanswered)):
                reply = ask_anew(page, question)
                for part in ("", ".vb-state", "blockquote", ".vb-meta", "li", "strong", ".vb-chip", "mark"):
                    found = reply.locator(part) if part else reply
                    for i in range(found.count()):
                        ratios[f"{state} {part or 'box'} {i}"] = found.nth(i).evaluate(CONTRAST)
                ask(page, "When did he say it?")  # a follow-up: its "about:" line
                context = page.locator("#vb-chat .vb-context")
                for i in range(context.count()):
                    ratios[f"about {i}"] = context.nth(i).evaluate(CONTRAST)
                sources = page.locator("#vb-passages .vb-meta, #vb-passages .vb-dateline, #vb-passages .vb-excerpt")
                for i in range(sources.count()):
                    ratios[f"{state} sources {i}"] = sources.nth(i).evaluate(CONTRAST)
            page.locator("#vb-chat .vb-chip").last.click()
            page.wait_for_selector("#vb-article #vb-hit")
            for part in (".vb-article-head h3", ".vb-article-head .vb-meta", "#vb-hit"):
                ratios[f"article {part}"] = page.locator(f"#vb-article {part}").evaluate(CONTRAST)
            low = {where: round(ratio, 2) for where, ratio in ratios.items() if ratio < 4.5}
            assert not low, (scheme, low)
            assert any(k.startswith("about") for k in ratios) and any(".vb-meta" in k for k in ratios)
        finally:
            page.close()


def test_at_420_px_the_question_box_buttons_and_sources_fit_and_a_chip_shows_its_span(browser, app):
    page = open_page(browser, app[0], width=420)
    try:
        assert page.locator("#vb-question textarea").evaluate("e => e.getBoundingClientRect().width") >= 300
        for button in ("#vb-ask", "#vb-new"):
            assert page.locator(button).evaluate("e => e.scrollWidth <= e.clientWidth"), button
            box = page.locator(button).bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 420, button
        assert page.evaluate("document.documentElement.scrollWidth") <= 420
        order = page.evaluate("""() => ['#vb-ask-row', '#vb-passages', '#vb-examples', '#vb-settings']
            .map((s) => document.querySelector(s).getBoundingClientRect().top)""")
        assert order == sorted(order), order  # Sources come before the examples and the Settings
        page.get_by_role("tab", name="Library").click()
        page.wait_for_selector("#vb-stats :text('articles')")
        page.wait_for_selector("#vb-library th .header")
        assert page.evaluate(HEADERS_FIT)
        ask(page, "Who is the Kremlin spokesperson?")
        page.locator(".vb-answer .vb-chip").first.click()
        page.wait_for_selector("#vb-article #vb-hit")
        page.wait_for_function(
            """() => {
            const hit = document.querySelector('#vb-hit').getBoundingClientRect();
            const head = document.querySelector('.vb-article-head').getBoundingClientRect();
            return hit.top >= 0 && hit.bottom <= window.innerHeight && hit.height > 0
                && head.top >= 0 && hit.top >= head.bottom - 1;  // the title and outlet in view above it
        }""",
            timeout=5_000,
        )
    finally:
        page.close()


def test_the_library_is_readable_and_a_removal_asks_first_and_can_be_undone(browser, app):
    url, root = app
    page = open_page(browser, url)
    doomed = "004_cb8e39e41f690045.txt"
    try:
        page.get_by_role("tab", name="Library").click()
        page.wait_for_selector("#vb-stats :text('articles')")
        table = page.locator("#vb-library")
        visible = page.evaluate(
            """(ids) => {
            const view = document.querySelector('#vb-library .virtual-table-viewport, #vb-library .table-container');
            const frame = view.getBoundingClientRect();
            const cells = [...document.querySelectorAll('#vb-library td, #vb-library [role=cell], #vb-library span')];
            return ids.filter((id) => cells.some((cell) => {
                if (cell.textContent.trim() !== id) return false;
                const box = cell.getBoundingClientRect();
                return box.height > 0 && box.top >= frame.top - 1 && box.bottom <= frame.bottom + 1
                    && box.top >= 0 && box.bottom <= window.innerHeight + 400;
            })).length;
        }""",
            sorted(p.name for p in (root / "corpus").glob("*.txt")),
        )
        assert visible >= 5
        font = table.locator("tbody td").first.evaluate("e => getComputedStyle(e).fontFamily")
        assert "mono" not in font.lower(), font
        assert page.evaluate(HEADERS_FIT)
        assert (
            "chunks" not in table.inner_text() and "BM25" not in page.locator("body").inner_text().split("Advanced")[0]
        )
        files = sorted(p.name for p in (root / "corpus").glob("*.txt"))
        shown = table.inner_text()
        assert [shown.index(f) for f in files] != sorted(shown.index(f) for f in files)  # newest first
        table.locator("thead th[data-heading='3']").click()  # sorted by file, from its header's menu
        table.locator("thead th[data-heading='3'] .cell-menu-button").click()
        page.get_by_text("Sort ascending").click()
        page.wait_for_function(
            "(files) => { const t = document.querySelector('#vb-library').innerText;"
            " return files.every((f, i) => i === 0 || t.indexOf(files[i - 1]) < t.indexOf(f)); }",
            arg=files,
            timeout=5_000,
        )
        page.click("#vb-remove-choice input")
        option = page.locator(f"#vb-remove-choice [role=option][aria-label$='({doomed})']")
        assert option.get_attribute("aria-label").startswith("Putin Says He")  # its title, not only the file name
        option.click()
        page.click("#vb-remove")
        page.wait_for_selector("#vb-remove-yes")
        assert "Undo" in page.locator("#vb-status").inner_text()
        assert (root / "corpus" / doomed).is_file()  # asked, nothing removed yet
        page.click("#vb-remove-yes")
        page.wait_for_selector(f"#vb-status :text('removed {doomed}')", timeout=120_000)
        assert not (root / "corpus" / doomed).exists() and doomed not in table.inner_text()
        page.click("#vb-undo")
        page.wait_for_selector(f"#vb-status :text('brought back {doomed}')", timeout=120_000)
        assert (root / "corpus" / doomed).is_file()
        page.wait_for_function(f"document.querySelector('#vb-library').innerText.includes('{doomed}')")
        assert page.locator("#vb-undo").is_hidden()
        emoji = page.evaluate("document.body.innerText.match(/[\\u{1F300}-\\u{1FAFF}\\u2700-\\u27BF\\u23F3]/u)")
        assert emoji is None, emoji
    finally:
        page.close()
