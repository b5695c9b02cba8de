"""The web app's named API endpoint, served for real on a free local port and called with gradio_client."""

import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest
from gradio_client import Client

from app import ChatService, create_app, launch
from rag.library import Library
from tests.conftest import ARTICLES, free_port


@pytest.fixture(scope="module")
def client(tmp_path_factory, articles_index, qa):
    root = tmp_path_factory.mktemp("app")
    shutil.copytree(ARTICLES, root / "corpus")
    shutil.copytree(articles_index, root / "index")
    port = free_port()
    demo = create_app(ChatService(Library(root / "corpus", root / "index"), qa))
    launch(demo, "127.0.0.1", port, prevent_thread_lock=True, quiet=True)
    yield Client(f"http://127.0.0.1:{port}/", verbose=False)
    demo.close()


def test_ask_endpoint_returns_the_answer_as_json(client):
    answer = client.predict("Who is the Kremlin spokesperson?", 3, "hybrid", api_name="/ask")
    assert answer["span"]["text"] == "Dmitry Peskov" and not answer["abstained"]
    assert answer["citations"][0]["source"] == "000_9cebef51757e5eed.txt" and answer["citations"][0]["line"] == 20
    assert len(answer["passages"]) == 3


def test_ask_endpoint_abstains_and_reports_bad_questions(client):
    assert client.predict("What is the recipe for a chocolate cake?", api_name="/ask")["abstained"]
    with pytest.raises(Exception, match="the question is empty"):
        client.predict("   ", api_name="/ask")


def test_several_users_at_once_get_their_own_answers(client):
    questions = ["Who is the Kremlin spokesperson?", "In which city did Trump address the World Economic Forum?"] * 4
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda q: client.predict(q, api_name="/ask"), questions))
    assert [a["question"] for a in answers] == questions
    assert {a["span"]["text"] for a in answers} == {"Dmitry Peskov", "Davos"}


def test_only_the_ask_endpoint_is_public(client):
    assert list(client.view_api(return_format="dict", print_info=False)["named_endpoints"]) == ["/ask"]
