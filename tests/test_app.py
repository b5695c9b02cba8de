"""The web app's named API endpoint, served for real on a free local port and called with gradio_client."""

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import gradio as gr
import httpx
import pytest
from gradio_client import Client

import rag
from rag.library import MAX_UPLOAD_BYTES, Library
from rag.web import ChatService, create_app, launch
from rag.web.chat import answer_json, chat_reply
from tests.conftest import ARTICLES, free_port, reader_for


@pytest.fixture(scope="module")
def server(tmp_path_factory, articles_index, qa):
    root = tmp_path_factory.mktemp("app")
    shutil.copytree(ARTICLES, root / "corpus")
    shutil.copytree(articles_index, root / "index")
    port = free_port()
    demo = create_app(ChatService(Library(root / "corpus", root / "index"), qa))
    launch(demo, "127.0.0.1", port, prevent_thread_lock=True, quiet=True)
    yield f"http://127.0.0.1:{port}/"
    demo.close()


@pytest.fixture(scope="module")
def client(server):
    return Client(server, verbose=False)


def test_ask_endpoint_returns_the_answer_as_json(client):
    answer = client.predict("Who is the Kremlin spokesperson?", 3, "hybrid", api_name="/ask")
    assert answer["span"]["text"] == "Dmitry Peskov" and not answer["abstained"]
    assert answer["citations"][0]["source"] == "000_9cebef51757e5eed.txt" and answer["citations"][0]["line"] == 20
    assert len(answer["passages"]) == 3


def test_ask_endpoint_says_each_state_and_abstained_only_with_the_abstained_state(client, qa, monkeypatch):
    question = "Who is the Kremlin spokesperson?"
    probability = qa.ask(question).confidence
    for state in ("answered", "tentative", "abstained"):
        monkeypatch.setattr(qa.answer_builder, "reader", reader_for(state, probability))  # the served QA's
        answer = client.predict(question, api_name="/ask")
        assert (answer["state"], answer["abstained"]) == (state, state == "abstained")
        assert bool(answer["citations"]) == (state != "abstained") and answer["confidence"] == pytest.approx(
            probability
        )


def test_ask_endpoint_abstains_and_reports_bad_questions(client):
    cake = client.predict("What is the recipe for a chocolate cake?", api_name="/ask")
    assert cake["abstained"] and cake["state"] == "abstained"
    with pytest.raises(Exception, match="the question is empty"):
        client.predict("   ", api_name="/ask")


@pytest.mark.parametrize("k", ["abc", 2.5, "", None])
def test_ask_endpoint_refuses_a_k_that_is_not_a_whole_number_readably(client, k):
    with pytest.raises(Exception, match="k must be a whole number from 1 to 50"):
        client.predict("Who is the Kremlin spokesperson?", k, "hybrid", api_name="/ask")


def test_ask_endpoint_takes_k_as_a_whole_number_in_any_form(client):
    for k in ("3", 3.0, " 3 "):
        assert len(client.predict("Who is the Kremlin spokesperson?", k, "hybrid", api_name="/ask")["passages"]) == 3


class DamagedIndex:
    """A service whose index turned out damaged at question time."""

    def ask(self, question, k, retriever, history=None, filters=None):
        raise rag.IndexCorruptError("the index at index is damaged (bad rows); check it with: rag check")


def test_a_damaged_index_is_said_readably_in_the_chat_and_through_the_api():
    history, box, _, answers = chat_reply(DamagedIndex(), "Who is the Kremlin spokesperson?", [], [], 5.0, "hybrid")
    assert (
        box == ""
        and answers == []
        and "the index at index is damaged (bad rows); check it with: rag check" in history[-1]["content"]
    )
    with pytest.raises(gr.Error, match="the index at index is damaged"):
        answer_json(DamagedIndex(), "Who is the Kremlin spokesperson?")


def test_the_upload_route_refuses_a_file_over_the_library_limit(server):
    name = "too-big-7f3a.txt"
    response = httpx.post(server + "gradio_api/upload", files={"files": (name, b"a" * (MAX_UPLOAD_BYTES + 1))})
    assert response.status_code == 413 and f"maximum allowed size of {MAX_UPLOAD_BYTES} bytes" in response.text
    assert not list(Path(gr.utils.get_upload_folder()).rglob(name))  # nothing left in Gradio's temp folder


def test_several_users_at_once_get_their_own_answers(client):
    questions = ["Who is the Kremlin spokesperson?", "In which city did Trump address the World Economic Forum?"] * 4
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda q: client.predict(q, api_name="/ask"), questions))
    assert [a["question"] for a in answers] == questions
    assert {a["span"]["text"] for a in answers} == {"Dmitry Peskov", "Davos"}


def test_only_the_ask_remove_and_details_endpoints_are_public(client):
    assert list(client.view_api(return_format="dict", print_info=False)["named_endpoints"]) == [
        "/ask",
        "/remove",
        "/details",
    ]
