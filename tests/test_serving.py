"""rag serve --ray: the JSON API on Ray Serve over a 2-shard index, on a local Ray cluster with the real model: the
same answers as one process, a replica killed under load, a shard that is down, and additions to the owning shard."""

import json
import threading
import time
from pathlib import Path

import httpx
import pytest
from conftest import free_port, sharded_copy

import rag
from eval.bench.serving import kill_a_replica
from rag.errors import RagError
from rag.serving import APP, Replicas
from rag.shards import shard_dirs, shard_of

ray = pytest.importorskip("ray")
serve = pytest.importorskip("ray.serve")

GOLD = [json.loads(line)["question"] for line in (Path(__file__).parent.parent / "eval/data/gold.jsonl").open()]
SHARD_TIMEOUT = 3


@pytest.fixture(scope="module")
def served(tmp_path_factory, embedder):
    """The shipped articles in a 2-shard index, served on Ray Serve with 2 answering replicas; yields
    (client, root, the same index answered in this process)."""
    from rag.serving import start

    root = tmp_path_factory.mktemp("ray-serve")
    sharded_copy(root)
    env = {"VERBATIM_SHARD_TIMEOUT": str(SHARD_TIMEOUT), "HF_HUB_OFFLINE": "1"}
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, runtime_env={"env_vars": env})
    port = free_port()
    try:
        start(root / "corpus", root / "index", "127.0.0.1", port, Replicas(2))
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            yield client, root, rag.load(root / "index")
    finally:
        serve.shutdown()
        ray.shutdown()


def expected(qa, question: str, **options) -> dict:
    return qa.ask(question, **options).to_dict() | {"filtered": None, "missing_shards": []}


def test_every_gold_question_is_answered_as_one_process_answers_it(served):
    client, _, qa = served
    for question in GOLD:
        reply = client.post("/ask", json={"question": question})
        assert reply.status_code == 200 and reply.json() == expected(qa, question)


def running(deployment: str) -> int:
    status = serve.status().applications[APP].deployments[deployment]
    return status.replica_states.get("RUNNING", 0)


def test_an_answering_replica_killed_under_load_is_replaced_and_no_answer_is_wrong(served):
    client, _, qa = served
    questions = GOLD[:6]
    right = {q: expected(qa, q) for q in questions}
    replies: list[tuple[str, int, dict, float]] = []
    stop = threading.Event()

    def user(offset: int) -> None:
        with httpx.Client(base_url=str(client.base_url), timeout=120) as own:
            i = offset
            while not stop.is_set():
                question = questions[i % len(questions)]
                reply = own.post("/ask", json={"question": question})
                replies.append((question, reply.status_code, reply.json(), time.monotonic()))
                i += 1

    users = [threading.Thread(target=user, args=(n,)) for n in range(4)]
    for thread in users:
        thread.start()
    time.sleep(3)
    killed_at = time.monotonic()
    kill_a_replica("Answerer")
    time.sleep(6)
    stop.set()
    for thread in users:
        thread.join()
    assert any(at > killed_at for _, status, _, at in replies if status == 200)  # answering went on
    for question, status, body, _ in replies:
        if status == 200:
            assert body == right[question]  # never another question's answer, never a half one
        else:
            assert (status, body) == (
                503,
                {"error": "the replica answering this stopped (Ray Serve is starting another): ask again"},
            )
    deadline = time.monotonic() + 90
    while running("Answerer") < 2 and time.monotonic() < deadline:
        time.sleep(1)
    assert running("Answerer") == 2


def test_a_shard_that_is_down_is_said_unless_partial_results_are_asked_for(served):
    client, root, qa = served
    question = "Who is the Kremlin spokesperson?"
    shard = shard_dirs(root / "index")[1]
    shard.rename(shard.with_name("away"))  # its replacement cannot open the index: the shard stays down
    try:
        kill_a_replica("shard-1")
        down = client.post("/ask", json={"question": question})
        assert (down.status_code, down.json()) == (
            503,
            {"error": "shard 1 of 2 of the index is down or restarting: ask again shortly, or ask for partial results"},
        )
        assert client.get("/health").status_code == 503
        partial = client.post("/ask", json={"question": question, "partial": True}).json()
        assert partial["missing_shards"] == [1]
        assert partial["passages"] and all(shard_of(p["source"], 2) == 0 for p in partial["passages"])
    finally:
        shard.with_name("away").rename(shard)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and client.get("/health").status_code != 200:
        time.sleep(2)
    assert client.post("/ask", json={"question": question}).json() == expected(qa, question)


def test_an_article_added_through_the_api_goes_to_the_shard_that_owns_it(served):
    client, root, _ = served
    generations = client.get("/health").json()["generation"]
    name = next(f"rover-{i}.txt" for i in range(10) if shard_of(f"rover-{i}.txt", 2) == 1)
    text = b"The lunar rover Pragyan found sulphur near the south pole on Tuesday, mission control said. " * 5
    assert client.post("/articles", files={"files": (name, text)}).json() == {"added": [name], "rejected": []}
    assert client.get("/health").json()["generation"] == [generations[0], generations[1] + 1]
    answer = client.post("/ask", json={"question": "What did the lunar rover Pragyan find?"}).json()
    assert answer["citations"][0]["source"] == name and answer["span"]["text"] == "sulphur"
    assert client.delete(f"/articles/{name}").json() == {"removed": name}
    assert (root / "corpus" / ".removed" / name).is_file()


def test_replicas_are_a_number_or_auto():
    assert Replicas.parse("3").options() == {"num_replicas": 3}
    assert Replicas.parse("auto", 6).options()["autoscaling_config"] == {
        "min_replicas": 1,
        "max_replicas": 6,
        "target_ongoing_requests": 2,
    }
    with pytest.raises(RagError, match="--replicas is a number from 1 up, or auto; not '0'"):
        Replicas.parse("0")
