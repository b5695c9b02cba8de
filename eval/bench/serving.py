"""Serving benchmark: the JSON API in one process and on Ray Serve, side by side in one run, on this machine.

1. Overhead, one question at a time: each gold question asked of `qa.ask()` in this process and, right after, of
   the setup measured (POST /ask to `rag serve --api` in a child process, or to Ray Serve with one answering
   replica), so that both see the same machine; every question is asked once first to warm the caches (the
   question-vector cache included, on both sides). p50 of each and their ratio, per setup.
2. Load: --users closed-loop clients (threads, one kept-alive connection each, no pause), --questions-per-user
   each, starting at different gold questions, against: one process (`rag serve --api`), Ray Serve with 1 and 2
   answering replicas, and with the reader batching questions that arrive together (in fp32: rag/reader.py). Throughput, p50, p95,
   errors, and answers that differ from the reference (the same question asked of `qa.ask()` alone).
3. Faults: Ray Serve with 2 replicas under the same load; one answering replica is killed --kill-after seconds in
   (with --shards, also a shard's replica). Every 200 must be the reference answer; anything else must be a 503
   that says so.

Loopback only; the index is a temporary copy of the shipped articles' (sharded with --shards N for the Ray setups).

    python -m eval.bench.serving [--users 20] [--questions-per-user 8] [--shards 0] [--json OUT]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np

from eval import ARTICLES, GOLD, child_env
from eval.bench.server import app_server, free_port
from rag.reader import Reader, cpu_flags

QUESTIONS = [json.loads(line)["question"] for line in GOLD.open()]


@contextlib.contextmanager
def one_process(root: Path, batch: bool) -> Iterator[str]:
    """`rag serve --api` over the copy, in a child process; yields its URL."""
    env = {"HF_HUB_OFFLINE": "1", "VERBATIM_READER_BATCH": "1" if batch else "0"}
    with app_server(root / "corpus", root / "index", "--api", "--read-only", log=root / "app.log", env=env) as (url, _):
        yield url


@contextlib.contextmanager
def on_ray(root: Path, index: str, replicas: int, batch: bool) -> Iterator[str]:
    """Ray Serve with this many answering replicas over the copy (`index`: its folder); yields the URL."""
    from ray import serve

    from rag.access import Access
    from rag.serving import Replicas, start

    os.environ["VERBATIM_READER_BATCH"] = "1" if batch else "0"
    port = free_port()
    start(root / "corpus", root / index, "127.0.0.1", port, Replicas(replicas), access=Access("read-only"))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        serve.shutdown()
        os.environ.pop("VERBATIM_READER_BATCH")


def warm_up(url: str) -> None:
    """Every gold question once, from two clients at a time (so that each of two replicas reads some)."""
    with httpx.Client(base_url=url, timeout=120) as one, httpx.Client(base_url=url, timeout=120) as other:
        for first, second in zip(QUESTIONS[::2], QUESTIONS[1::2]):
            thread = threading.Thread(target=other.post, args=("/ask",), kwargs={"json": {"question": second}})
            thread.start()
            one.post("/ask", json={"question": first})
            thread.join()


def overhead(qa, url: str, rounds: int) -> dict:
    """p50 of qa.ask() and of POST /ask, each question asked of both in turn."""
    local, remote = [], []
    with httpx.Client(base_url=url, timeout=120) as client:
        for question in QUESTIONS:  # warm both sides' caches
            qa.ask(question)
            client.post("/ask", json={"question": question})
        for _ in range(rounds):
            for question in QUESTIONS:
                started = time.perf_counter()
                qa.ask(question)
                local.append(time.perf_counter() - started)
                started = time.perf_counter()
                reply = client.post("/ask", json={"question": question})
                remote.append(time.perf_counter() - started)
                reply.raise_for_status()
    here, there = np.median(local) * 1000, np.median(remote) * 1000
    return {"in_process_p50_ms": round(here, 1), "served_p50_ms": round(there, 1), "ratio": round(there / here, 3)}


def load(url: str, users: int, per_user: int, reference: dict, kill: float | None = None, victim="Answerer") -> dict:
    """`users` closed-loop clients; with `kill`, a replica of `victim` is killed that many seconds in."""
    results: list[tuple[float, int, bool]] = []  # (seconds, status, right)
    problems: list[str] = []

    def user(n: int) -> None:
        with httpx.Client(base_url=url, timeout=300) as client:
            for i in range(per_user):
                question = QUESTIONS[(n * 7 + i) % len(QUESTIONS)]
                started = time.perf_counter()
                reply = client.post("/ask", json={"question": question})
                seconds = time.perf_counter() - started
                right = reply.status_code == 200 and reply.json() == reference[question]
                if reply.status_code != 200 and not (reply.status_code == 503 and "error" in reply.json()):
                    problems.append(f"{reply.status_code}: {reply.text[:200]}")
                results.append((seconds, reply.status_code, right))

    threads = [threading.Thread(target=user, args=(n,)) for n in range(users)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    if kill is not None:
        time.sleep(kill)
        kill_a_replica(victim)
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    ok = [s for s, status, _ in results if status == 200]
    return {
        "requests": len(results),
        "answers_per_s": round(len(ok) / wall, 2),
        "p50_ms": round(float(np.percentile(ok, 50)) * 1000, 1) if ok else None,
        "p95_ms": round(float(np.percentile(ok, 95)) * 1000, 1) if ok else None,
        "errors": sum(1 for _, status, _ in results if status != 200),
        "503": sum(1 for _, status, _ in results if status == 503),
        "wrong_or_mixed": sum(1 for _, status, right in results if status == 200 and not right),
        "other_failures": problems,
    }


def kill_a_replica(deployment: str) -> None:
    import ray

    from rag.serving import APP

    prefix = f"SERVE_REPLICA::{APP}#{deployment}#"
    name = next(a["name"] for a in ray.util.list_named_actors(all_namespaces=True) if a["name"].startswith(prefix))
    ray.kill(ray.get_actor(name, namespace="serve"), no_restart=True)


def answers(qa) -> dict:
    """Each gold question's reference reply: the question asked of `qa` alone."""
    return {q: qa.ask(q).to_dict() | {"filtered": None, "missing_shards": []} for q in QUESTIONS}


def prepare(root: Path, shards: int) -> None:
    shutil.copytree(ARTICLES, root / "corpus")
    for index, extra in (("index", []), ("sharded", ["--shards", str(shards)] if shards else None)):
        if extra is None:
            continue
        command = [sys.executable, "-m", "rag.cli", "index", str(root / "corpus"), "--index-dir", str(root / index)]
        subprocess.run([*command, *extra], check=True, capture_output=True, env=child_env(HF_HUB_OFFLINE="1"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--questions-per-user", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2, help="timed passes over the gold questions (overhead)")
    parser.add_argument("--shards", type=int, default=0, help="Ray setups over an index of this many shards")
    parser.add_argument("--kill-after", type=float, default=8.0)
    parser.add_argument("--only", default=None, metavar="TEXT", help="only the setups whose name holds this")
    parser.add_argument("--json", default=None, metavar="OUT")
    args = parser.parse_args()
    import ray

    import rag

    print(f"CPU: {cpu_flags()}; {os.cpu_count()} cores", flush=True)
    root = Path(tempfile.mkdtemp(prefix="verbatim-serving-"))
    figures: dict = {"cpu": cpu_flags(), "users": args.users, "questions_per_user": args.questions_per_user}
    try:
        prepare(root, args.shards)
        qa = rag.load(root / "index")
        ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False, configure_logging=False)
        setups = [
            ("one process", lambda: one_process(root, batch=False)),
            ("one process, batching", lambda: one_process(root, batch=True)),
            ("Ray Serve, 1 replica", lambda: on_ray(root, "index", 1, batch=False)),
            ("Ray Serve, 1 replica, batching", lambda: on_ray(root, "index", 1, batch=True)),
            ("Ray Serve, 2 replicas", lambda: on_ray(root, "index", 2, batch=False)),
        ]
        if args.shards:
            setups.append((f"Ray Serve, {args.shards} shards, 1 replica", lambda: on_ray(root, "sharded", 1, False)))
            sharded = rag.load(root / "sharded", reader=qa.answer_builder.reader)
        fp32 = rag.load(root / "index", reader=Reader(precision="fp32"))
        for name, setup in [s for s in setups if args.only is None or args.only in s[0]]:
            if "shards" in name:  # the sharded service is held to one process reading the same shards
                reference = answers(sharded)
            elif "batching" in name:  # a batching reader reads in fp32 (rag/reader.py)
                reference = answers(fp32)
            else:
                reference = answers(qa)
            with setup() as url:
                warm_up(url)
                row = {}
                if "batching" not in name and "2 replicas" not in name:
                    row["overhead"] = overhead(sharded if "shards" in name else qa, url, args.rounds)
                row["load"] = load(url, args.users, args.questions_per_user, reference)
                if name == "Ray Serve, 2 replicas":
                    row["replica_killed"] = load(
                        url, args.users, args.questions_per_user, reference, kill=args.kill_after
                    )
                if "shards" in name:
                    row["shard_killed"] = load(
                        url, args.users, args.questions_per_user, reference, kill=args.kill_after, victim="shard-1"
                    )
            figures[name] = row
            print(name, json.dumps(row), flush=True)
    finally:
        ray.shutdown()
        shutil.rmtree(root, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main()
