"""The JSON API (rag/api) on the real model and a real index on disk: its schema, its answers (the same as
`QA.ask`), its errors, its logins, and uploads refused before anything is stored."""

import json
import os
import shutil
from pathlib import Path

import httpx
import pytest
from conftest import ARTICLES, SHIPPED, free_port
from fastapi.testclient import TestClient

from rag.access import Access, hash_password
from rag.admission import PASS_COOKIE, UploadGate
from rag.api import schema
from rag.library import MAX_UPLOAD_BYTES, Library
from rag.service import ChatService

GOLD = Path(__file__).resolve().parent.parent / "eval" / "data" / "gold.jsonl"
PASSWORD = "correct horse"
ARTICLE = b"Mission control said the lunar rover Pragyan found sulphur near the south pole on Tuesday. " * 20


def api(root: Path, articles_index, qa, access: Access, per_minute: int = 20):
    """The app `rag serve --api` serves (the API and the page at /) over a copy of the articles and their index."""
    from rag.web import create_app
    from rag.web.server import with_api

    shutil.copytree(ARTICLES, root / "corpus")
    shutil.copytree(articles_index, root / "index")
    service = ChatService(Library(root / "corpus", root / "index"), qa)
    gate = UploadGate(access, MAX_UPLOAD_BYTES, per_minute)
    return with_api(create_app(service, access, gate), service, access), service


@pytest.fixture(scope="module")
def open_api(tmp_path_factory, articles_index, qa):
    app, service = api(tmp_path_factory.mktemp("open"), articles_index, qa, Access())
    with TestClient(app) as client:
        yield client, service


@pytest.fixture(scope="module")
def locked_api(tmp_path_factory, articles_index, qa):
    root = tmp_path_factory.mktemp("locked")
    app, service = api(root, articles_index, qa, Access("login", {"ann": hash_password(PASSWORD)}), per_minute=3)
    with TestClient(app) as client:
        yield client, root


def test_the_openapi_document_describes_every_route_and_the_docs_page_serves(open_api):
    client, _ = open_api
    document = client.get("/openapi.json").json()
    assert {path: sorted(methods) for path, methods in document["paths"].items()} == {
        "/ask": ["post"],
        "/retrieve": ["post"],
        "/health": ["get"],
        "/articles": ["get", "post"],
        "/articles/{doc_id}": ["delete", "get"],
    }
    ask = document["components"]["schemas"]["Ask"]["properties"]
    assert sorted(ask) == ["abstain", "filters", "history", "k", "partial", "question", "retriever"]
    assert ask["k"]["maximum"] == 50
    added = document["paths"]["/articles"]["post"]
    assert "multipart/form-data" in added["requestBody"]["content"]
    assert {"401", "403", "413", "429"} <= set(added["responses"])
    page = client.get("/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text
    assert client.get("/").status_code == 200  # the chat page, mounted beside the API


def test_ask_answers_exactly_as_qa_ask_for_every_gold_question(open_api, qa):
    client, _ = open_api
    for line in GOLD.read_text().splitlines():
        question = json.loads(line)["question"]
        reply = client.post("/ask", json={"question": question})
        assert reply.status_code == 200
        assert reply.json() == qa.ask(question).to_dict() | {"filtered": None, "missing_shards": []}


def test_every_answer_field_is_in_the_schema_and_nothing_else(open_api, qa):
    """The Pydantic models mirror Answer.to_dict(): a field added to one and not the other fails here."""
    follow_up = qa.ask("Why?", history=[qa.ask("Who is the Kremlin spokesperson?")]).to_dict()
    assert follow_up["context"] is not None
    schema.Answer.model_validate(follow_up)
    schema.Answer.model_validate(qa.ask("What is the capital of Peru?").to_dict())
    assert set(schema.Answer.model_fields) == set(follow_up)


def test_ask_takes_history_filters_and_a_retriever(open_api, qa):
    client, _ = open_api
    first = client.post("/ask", json={"question": "Who is the Kremlin spokesperson?"}).json()
    follow = client.post("/ask", json={"question": "What did he say?", "history": [first]}).json()
    assert follow == qa.ask("What did he say?", history=[first]).to_dict() | {"filtered": None, "missing_shards": []}
    assert follow["context"]["about"] == "Dmitry Peskov"
    dated = client.post(
        "/ask", json={"question": "Who is the Kremlin spokesperson?", "filters": {"after": "2025-01-01"}}
    ).json()
    assert (
        dated["filtered"]
        == "Filtered to 0 of 5 articles: published on or after 1 Jan 2025; 4 undated articles left out"
    )
    assert dated["state"] == "abstained" and dated["citations"] == []
    lexical = client.post("/ask", json={"question": "Who is the Kremlin spokesperson?", "retriever": "bm25"}).json()
    assert lexical["passages"] == qa.ask("Who is the Kremlin spokesperson?", retriever="bm25").to_dict()["passages"]


def test_retrieve_articles_and_health(open_api, qa):
    client, _ = open_api
    passages = client.post("/retrieve", json={"question": "Dmitry Peskov", "k": 3}).json()
    assert [(p["source"], p["start"], p["score"]) for p in passages["passages"]] == [
        (p.source, p.start, p.score) for p in qa.retrieve("Dmitry Peskov", k=3)
    ]
    assert sorted(a["id"] for a in client.get("/articles").json()) == SHIPPED
    article = client.get(f"/articles/{SHIPPED[3]}").json()
    assert article["text"] == qa.store.document(SHIPPED[3]).text
    assert article["outlet"] == qa.store.document(SHIPPED[3]).meta.outlet
    assert client.get("/health").json() == {
        "status": "ok",
        "model": "all-MiniLM-L6-v2",
        "reader": "reader",
        "reader_precision": qa.answer_builder.reader.running,
        "articles": 5,
        "chunks": qa.store.n_chunks,
        "generation": qa.store.generations,
        "shards": 1,
    }


@pytest.mark.parametrize(
    "body, status, error",
    [
        ({"question": "   "}, 400, "the question is empty: type a question about the articles"),
        (
            {"question": "x" * 1001},
            400,
            "the question is 1,001 characters long; the limit is 1,000: ask something shorter",
        ),
        ({"question": "Who?", "k": 51}, 400, "k: Input should be less than or equal to 50"),
        (
            {"question": "Who?", "k": "many"},
            400,
            "k: Input should be a valid integer, unable to parse string as an integer",
        ),
        ({"question": "Who?", "retriever": "magic"}, 400, "retriever: Input should be 'hybrid', 'dense' or 'bm25'"),
        (
            {"question": "Who?", "filters": {"after": "3 Jnu 2025"}},
            400,
            "filters['after']: Couldn't read “3 Jnu 2025” as a date: write it like 3 Jan 2025",
        ),
        ({"k": 5}, 400, "question: Field required"),
        ({"question": "Who?", "colour": "red"}, 400, "colour: Extra inputs are not permitted"),
    ],
)
def test_a_bad_question_is_a_400_in_plain_words(open_api, body, status, error):
    client, _ = open_api
    reply = client.post("/ask", json=body)
    assert reply.status_code == status
    assert reply.json() == {"error": error}


def test_a_malformed_upload_is_a_400_in_json(open_api):
    client, _ = open_api
    many = client.post("/articles", files=[("files", (f"{i}.txt", b"text")) for i in range(21)])
    assert many.status_code == 400 and many.json() == {"error": "Too many files. Maximum number of files is 20."}


def test_an_unknown_article_is_a_404(open_api):
    client, _ = open_api
    assert client.get("/articles/nothing.txt").json() == {"error": "no article 'nothing.txt' in the library"}
    assert client.get("/articles/nothing.txt").status_code == 404
    assert client.delete("/articles/nothing.txt").status_code == 404


def test_an_unusable_index_is_a_503(tmp_path, articles_index, embedder):
    """The index's files fail to read (here: closed under the service): questions get 503, not a traceback."""
    import rag
    from rag.api import LocalBackend, create_api

    shutil.copytree(articles_index, tmp_path / "index")
    qa = rag.pipeline.reopen(tmp_path / "index", embedder)
    qa.store.close()
    client = TestClient(create_api(LocalBackend(ChatService(Library(ARTICLES, tmp_path / "index"), qa))))
    reply = client.post("/ask", json={"question": "Who is the Kremlin spokesperson?"})
    assert reply.status_code == 503
    assert "is damaged" in reply.json()["error"] and "rag check" in reply.json()["error"]


def test_an_open_library_adds_and_removes_through_the_api(open_api):
    client, service = open_api
    added = client.post("/articles", files={"files": ("rover.txt", ARTICLE)})
    assert added.status_code == 200 and added.json() == {"added": ["rover.txt"], "rejected": []}
    answer = client.post("/ask", json={"question": "What did the lunar rover Pragyan find?"}).json()
    assert answer["citations"][0]["source"] == "rover.txt" and answer["span"]["text"] == "sulphur"
    rejected = client.post("/articles", files={"files": ("again.txt", ARTICLE)}).json()
    assert rejected == {
        "added": [],
        "rejected": [{"name": "again.txt", "reason": "same content as rover.txt, already in the library"}],
    }
    assert client.delete("/articles/rover.txt").json() == {"removed": "rover.txt"}
    assert "rover.txt" not in service.document_ids()


def test_changes_need_the_login_of_auth(locked_api):
    client, root = locked_api
    refused = client.delete(f"/articles/{SHIPPED[0]}")
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == 'Basic realm="verbatim"'
    assert client.delete(f"/articles/{SHIPPED[0]}", auth=("ann", "wrong")).status_code == 401
    assert client.post("/articles", files={"files": ("a.txt", ARTICLE)}, auth=("bob", PASSWORD)).status_code == 401
    added = client.post("/articles", files={"files": ("a.txt", ARTICLE)}, auth=("ann", PASSWORD))
    assert added.json() == {"added": ["a.txt"], "rejected": []}
    assert client.delete("/articles/a.txt", auth=("ann", PASSWORD)).json() == {"removed": "a.txt"}
    assert (root / "corpus" / ".removed" / "a.txt").is_file()


def test_a_read_only_library_refuses_every_change_with_403(tmp_path, articles_index, qa):
    app, _ = api(tmp_path, articles_index, qa, Access("read-only"))
    client = TestClient(app)
    refusal = {"error": "This library is read-only: articles cannot be added or removed here."}
    removal = client.delete(f"/articles/{SHIPPED[0]}")
    assert removal.status_code == 403 and removal.json() == refusal
    reply = client.post("/articles", files={"files": ("a.txt", ARTICLE)})
    assert reply.status_code == 403 and reply.json() == refusal
    assert client.post("/ask", json={"question": "Who is the Kremlin spokesperson?"}).status_code == 200


def test_uploads_over_the_size_or_the_rate_limit_are_refused(tmp_path, articles_index, qa):
    app, _ = api(tmp_path, articles_index, qa, Access(), per_minute=2)
    client = TestClient(app)
    big = client.post("/articles", files={"files": ("big.txt", b"word " * (MAX_UPLOAD_BYTES // 4))})
    assert big.status_code == 413
    size = int(big.request.headers["content-length"])
    assert big.json() == {
        "error": f"The upload is {size:,} bytes; send at most 5,242,880 bytes (one article) at a time."
    }
    for name in ("one.txt", "two.txt"):
        assert client.post("/articles", files={"files": (name, ARTICLE + name.encode())}).status_code == 200
    third = client.post("/articles", files={"files": ("three.txt", ARTICLE + b"three")})
    assert third.status_code == 429 and third.json()["error"].startswith("Too many uploads: 2 a minute at most")
    assert not (tmp_path / "corpus" / "three.txt").exists() and not (tmp_path / "corpus" / "big.txt").exists()


def files_under(*roots: Path) -> set[Path]:
    return {path for root in roots if root.exists() for path in root.rglob("*")}


def test_uploads_without_a_login_store_nothing_through_the_api_or_the_pages_route(tmp_path, articles_index, qa):
    """`rag serve` (Gradio's own server) and `rag serve --api`, locked: uploads sent without a login, to the page's
    upload route and to the API, leave no new file anywhere (corpus, Gradio's folder, the temp folder); the same
    upload with the page's login pass is stored, so the check would see one."""
    import tempfile

    import gradio as gr

    from rag.web import create_app, launch

    access = Access("login", {"ann": hash_password(PASSWORD)})
    app, service = api(tmp_path / "api", articles_index, qa, access)
    gate = UploadGate(access, MAX_UPLOAD_BYTES)
    demo = create_app(service, access, gate)
    port = free_port()
    launch(demo, "127.0.0.1", port, prevent_thread_lock=True, quiet=True)
    watched = [tmp_path / "api" / "corpus", Path(gr.utils.get_upload_folder()), Path(tempfile.gettempdir())]
    try:
        before = files_under(*watched)
        page = httpx.Client(base_url=f"http://127.0.0.1:{port}")
        for client in (page, TestClient(app)):
            reply = client.post("/gradio_api/upload", files={"files": ("flood.txt", os.urandom(4 * 2**20))})
            assert (
                reply.status_code == 401
                and reply.text == "Log in to add articles: uploads without a login are refused."
            )
        reply = TestClient(app).post("/articles", files={"files": ("flood.txt", os.urandom(4 * 2**20))})
        assert reply.status_code == 401
        fetched = {"path": f"http://127.0.0.1:{port}/gradio_api/info", "meta": {"_type": "gradio.FileData"}}
        event = {"data": [[fetched], None, None], "fn_index": 0, "session_hash": "outsider"}
        reply = page.post("/gradio_api/queue/join", json=event)  # Gradio would download a file named by URL
        assert (reply.status_code, reply.text) == (400, "Files must be uploaded, not fetched from a URL.")
        assert files_under(*watched) - before == set()
        page.cookies.set(PASS_COOKIE, gate.issue_pass())
        stored = page.post("/gradio_api/upload", files={"files": ("article.txt", ARTICLE)})
        assert stored.status_code == 200 and Path(stored.json()[0]).read_bytes() == ARTICLE
    finally:
        demo.close()


def test_a_read_only_pages_upload_route_takes_nothing(tmp_path, articles_index, qa):
    from rag.web import create_app, launch

    access = Access("read-only")
    _, service = api(tmp_path, articles_index, qa, access)
    gate = UploadGate(access, MAX_UPLOAD_BYTES)
    demo = create_app(service, access, gate)
    port = free_port()
    launch(demo, "127.0.0.1", port, prevent_thread_lock=True, quiet=True)
    try:
        reply = httpx.post(f"http://127.0.0.1:{port}/gradio_api/upload", files={"files": ("a.txt", ARTICLE)})
        assert reply.status_code == 403 and reply.text == access.refusal
    finally:
        demo.close()
