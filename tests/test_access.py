"""A locked library: questions stay open; adding and removing articles need a login (--auth) or are off
(--read-only). Checked on the rules, and through the served API."""

import shutil

import pytest
from gradio_client import Client

from rag.access import AUTH_ENV, Access, hash_password, verify_password
from rag.errors import RagError
from rag.library import Library
from rag.web import ChatService, create_app, launch
from tests.conftest import ARTICLES, free_port

PASSWORD = "correct horse battery"


def test_passwords_are_kept_as_salted_scrypt_hashes_and_checked():
    hashed = hash_password(PASSWORD)
    assert hashed.startswith("scrypt$") and PASSWORD not in hashed and hashed != hash_password(PASSWORD)
    assert (
        verify_password(PASSWORD, hashed)
        and not verify_password("wrong", hashed)
        and not verify_password(PASSWORD, "garbage")
    )


def test_users_come_from_the_environment_or_a_file_and_a_bad_line_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv(AUTH_ENV, f"editor:{hash_password(PASSWORD)}")
    access = Access.configured(login=True)
    assert access.mode == "login" and access.log_in("editor", PASSWORD) and not access.log_in("editor", "nope")
    assert "scrypt" not in repr(access)  # hashes never printed
    assert access.allows("editor") and not access.allows(None) and not access.allows("intruder")
    (tmp_path / "users").write_text(f"# editors\nann:{hash_password(PASSWORD)}\n")
    assert Access.configured(auth_file=tmp_path / "users").log_in("ann", PASSWORD)
    (tmp_path / "bad").write_text("ann:plaintext\n")
    with pytest.raises(RagError, match="rag hash-password"):
        Access.configured(auth_file=tmp_path / "bad")
    monkeypatch.setenv(AUTH_ENV, "")
    with pytest.raises(RagError, match="needs a user"):
        Access.configured(login=True)
    assert not Access.configured(read_only=True).allows("editor") and Access.configured().allows(None)


@pytest.fixture(scope="module")
def locked(tmp_path_factory, articles_index, qa):
    """Two servers over copies of the library: one that needs a login for changes, one read-only."""
    servers = {}
    for mode, access in (
        ("login", Access("login", {"editor": hash_password(PASSWORD)})),
        ("read-only", Access("read-only")),
    ):
        root = tmp_path_factory.mktemp(mode)
        shutil.copytree(ARTICLES, root / "corpus")
        shutil.copytree(articles_index, root / "index")
        port = free_port()
        demo = create_app(ChatService(Library(root / "corpus", root / "index"), qa), access)
        launch(demo, "127.0.0.1", port, prevent_thread_lock=True, quiet=True)
        servers[mode] = (f"http://127.0.0.1:{port}/", root, demo)
    yield servers
    for _, _, demo in servers.values():
        demo.close()


def test_questions_stay_open_and_removal_needs_the_right_login(locked):
    url, root, _ = locked["login"]
    client = Client(url, verbose=False)
    assert not client.predict("Who is the Kremlin spokesperson?", api_name="/ask")["abstained"]
    doomed = "002_aa8d7564ce6ae218.txt"
    for user, password in (("", ""), ("editor", "wrong"), ("intruder", PASSWORD)):
        with pytest.raises(Exception, match="removal refused"):
            client.predict(doomed, user, password, api_name="/remove")
    assert (root / "corpus" / doomed).is_file()
    assert client.predict(doomed, "editor", PASSWORD, api_name="/remove") == f"removed {doomed}"
    assert not (root / "corpus" / doomed).exists()


def test_article_details_need_the_right_login(locked):
    url, root, _ = locked["login"]
    client = Client(url, verbose=False)
    article = "001_50e1bebe41a30cea.txt"
    for user, password in (("", ""), ("editor", "wrong")):
        with pytest.raises(Exception, match="change refused"):
            client.predict(article, None, "The Independent", None, None, None, user, password, api_name="/details")
    assert not (root / "corpus" / ".verbatim-meta.json").exists()
    details = client.predict(
        article, None, "The Independent", None, None, None, "editor", PASSWORD, api_name="/details"
    )
    assert details["outlet"] == "The Independent" and details["published"] is None  # never invented


def test_a_read_only_library_refuses_every_change(locked):
    url, root, _ = locked["read-only"]
    client = Client(url, verbose=False)
    assert list(client.view_api(return_format="dict", print_info=False)["named_endpoints"]) == [
        "/ask"
    ]  # no /remove at all
    with pytest.raises(ValueError, match="Cannot find a function with `api_name`: /remove"):
        client.predict("000_9cebef51757e5eed.txt", "editor", PASSWORD, api_name="/remove")
    assert (root / "corpus" / "000_9cebef51757e5eed.txt").is_file()
    assert not client.predict("Who is the Kremlin spokesperson?", api_name="/ask")["abstained"]


@pytest.mark.browser
def test_the_page_uploads_only_after_its_login(locked, browser, tmp_path):
    """Gradio's upload route refuses the file before the login (nothing reaches the upload box's list); the login
    gives the page its pass, and then the same file is uploaded and added."""
    from tests.test_web import open_page

    url, root, _ = locked["login"]
    article = tmp_path / "rover.txt"
    article.write_text(
        "The lunar rover Pragyan found sulphur near the south pole on Tuesday, mission control said. " * 5
    )
    page = open_page(browser, url)
    try:
        page.get_by_role("tab", name="Library").click()
        with page.expect_response("**/gradio_api/upload**") as refused:
            page.set_input_files("#vb-upload input[type=file]", [str(article)])
        assert refused.value.status == 401
        page.locator("#vb-user").get_by_role("textbox").fill("editor")
        page.locator("#vb-password").get_by_role("textbox").fill(PASSWORD)
        page.click("#vb-login")
        page.wait_for_function("document.cookie.includes('verbatim_pass=')")
        with page.expect_response("**/gradio_api/upload**") as taken:
            page.set_input_files("#vb-upload input[type=file]", [str(article)])
        assert taken.value.status == 200
        page.wait_for_function("(document.querySelector('#vb-upload').innerText.match(/⇣/g) || []).length >= 1")
        page.click("#vb-add")
        page.wait_for_function("document.querySelector('#vb-status').innerText.includes('added')", timeout=120_000)
        assert (root / "corpus" / "rover.txt").is_file()
    finally:
        page.close()
