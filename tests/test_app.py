"""The web chat served for real on a free local port and called through its named API endpoint."""

import socket

import pytest
from gradio_client import Client

from app import create_app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def client(qa):
    port = free_port()
    demo = create_app(qa).queue()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    yield Client(f"http://127.0.0.1:{port}/", verbose=False)
    demo.close()


def test_chat_answers_with_quote_and_citation(client):
    reply = client.predict("Who is the Kremlin spokesperson?", api_name="/ask")
    assert "Dmitry Peskov" in reply and "000_9cebef51757e5eed.txt" in reply and "line 20" in reply


def test_chat_says_plainly_when_the_articles_do_not_answer(client):
    reply = client.predict("What is the recipe for a chocolate cake?", api_name="/ask")
    assert "The articles do not answer this question." in reply


def test_chat_reports_bad_questions(client):
    assert "the question is empty" in client.predict("   ", api_name="/ask")
