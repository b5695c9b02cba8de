"""Load test of the web chat: N users asking at once through the named API `/ask`.

Each user is one session of its own (its own Gradio session hash and one kept-alive HTTP
connection) that asks its questions one after the other with no pause: a closed loop, so latency is
about users / throughput (Little's law). Users start at different places in eval/data/gold.jsonl, so
different questions (answerable and not) are answered at the same moment.

Correctness under load: after the load, every distinct question is asked once, alone; each answer
given under load must equal that reference exactly (the whole `Answer.to_dict()`: text, citations, span,
confidence, passages; answering is deterministic, so any difference is counted as a mixed answer).
An error is a failed HTTP call, an error event, a timeout or a stream that ends without an answer.

Where the time goes: requests take the route the page takes, Gradio's queue (POST
/gradio_api/queue/join, then the session's SSE stream /gradio_api/queue/data), whose last message says
how long the function ran. Per request:

    answering   "process_completed" output.duration: ask() and Gradio's pre/post-processing, timed by
                the server around the call (what concurrent answers cost each other shows here)
    waiting     the rest: in the queue for one of its workers, plus the way there and back through
                HTTP and the event loop (the alone pass shows that trip: a few ms)

("process_starts" is not used to split the rest: it reaches the client through the same busy event
loop, often after the function has already run.)

Client and server share the machine, so the CPU each used is reported too, in cores (the server's
only when this script started it; "machine" is every process, so others' work shows).

Without --url the script starts app.py on a free port, on a temporary copy of the index (app.py
brings an index up to date when it starts; without a usable index it builds one there), and stops it
at the end: the index given is never written.

    python -m eval.bench.load [--url URL | --corpus DIR --index-dir D] [--users 20] [--questions-per-user 10]
                              [--k 5] [--retriever hybrid] [--json OUT]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
import numpy as np

from eval import ARTICLES, GOLD, ROOT
from eval.bench.server import ServerDidNotStart, app_server
from rag.store import COMMIT_FILE, SEGMENTS_DIR

WARM_UP = "What are the articles about?"  # not one of the questions timed
START_TIMEOUT_S = 300  # app.py loads the models and may build the index first


class LoadError(Exception):
    """The test cannot run: the server did not start, has no /ask, or fails when asked alone."""


@dataclass
class Reply:
    """One request as the client saw it; `answering_s`: the server's time for the call, when it answered."""

    answer: dict | None
    error: str | None
    total_s: float
    answering_s: float | None = None


@dataclass
class Percentiles:
    p50_s: float
    p95_s: float
    max_s: float

    @classmethod
    def of(cls, seconds: list[float]) -> Percentiles:
        values = np.array(seconds or [np.nan])
        return cls(float(np.percentile(values, 50)), float(np.percentile(values, 95)), float(values.max()))

    def ms(self) -> str:
        return f"p50 {self.p50_s * 1000:7.0f}   p95 {self.p95_s * 1000:7.0f}   max {self.max_s * 1000:7.0f}"


@dataclass
class Usage:
    """CPU cores used on average over a span: by the server (when known), this client and the whole machine."""

    server: float | None
    client: float
    machine: float | None

    @property
    def others(self) -> float | None:
        return None if self.server is None or self.machine is None else self.machine - self.server - self.client


@dataclass
class LoadReport:
    url: str
    users: int
    questions_per_user: int
    k: int
    retriever: str
    distinct_questions: int
    requests: int
    errors: int
    mixed: int
    seconds: float
    throughput: float  # answers per second, all users together
    latency: Percentiles
    answering: Percentiles
    waiting: Percentiles  # total - answering: the queue and the trip
    alone_latency: Percentiles  # the reference pass: one question at a time (its vector cached by then)
    alone_answering: Percentiles
    cores: Usage  # under load
    samples: list[str]  # the first errors and mixed answers, to see what went wrong


class ApiClient:
    """One user: a session of its own on one kept-alive connection, speaking the queue protocol the page speaks."""

    def __init__(self, url: str, fn_index: int, timeout_s: float = 60):
        self.http = httpx.Client(base_url=url.rstrip("/") + "/gradio_api", timeout=timeout_s)
        self.fn_index = fn_index
        self.session = uuid.uuid4().hex[:12]

    def ask(self, question: str, k: int, retriever: str) -> Reply:
        started = time.perf_counter()
        reply = None
        try:
            joined = self.http.post(
                "/queue/join",
                json={
                    "data": [question, k, retriever, None, None],
                    "fn_index": self.fn_index,
                    "session_hash": self.session,
                },
            )
            joined.raise_for_status()
            event_id = joined.json()["event_id"]
            with self.http.stream("GET", "/queue/data", params={"session_hash": self.session}) as stream:
                stream.raise_for_status()
                for line in stream.iter_lines():  # read to the end, so that the connection is kept
                    if not line.startswith("data:"):
                        continue
                    message = json.loads(line[5:])
                    kind, total = message.get("msg"), time.perf_counter() - started
                    if kind == "process_completed":
                        output = message.get("output") or {}
                        if message.get("event_id") != event_id:
                            reply = Reply(None, f"answer of another event {message.get('event_id')}", total)
                        elif not message.get("success"):
                            reply = Reply(None, f"error event: {output.get('error')}", total)
                        else:
                            reply = Reply(output["data"][0], None, total, output.get("duration"))
                    elif kind == "unexpected_error":
                        reply = Reply(None, f"unexpected error: {message.get('message')}", total)
        except (httpx.HTTPError, ValueError, KeyError, IndexError) as exc:
            return Reply(None, f"{type(exc).__name__}: {exc}", time.perf_counter() - started)
        return reply or Reply(None, "the stream ended without an answer", time.perf_counter() - started)

    def close(self) -> None:
        self.http.close()


def endpoint_index(url: str, api_name: str = "ask") -> int:
    """The queue addresses functions by index; the page's config maps the API name to it."""
    config = httpx.get(url.rstrip("/") + "/config", timeout=30).raise_for_status().json()
    for dependency in config["dependencies"]:
        if dependency.get("api_name") == api_name:
            return dependency["id"]
    raise LoadError(f"{url} has no API endpoint /{api_name}")


def gold_questions(path: Path = GOLD) -> list[str]:
    return [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def schedule(questions: list[str], users: int, per_user: int) -> list[list[str]]:
    """Each user's questions: consecutive ones from a start spread over the list, so users differ at each moment."""
    return [
        [questions[(user * len(questions) // users + i) % len(questions)] for i in range(per_user)]
        for user in range(users)
    ]


class CpuMeter:
    """Reads CPU seconds of this process, of the server's process and of the machine (Linux /proc; None elsewhere)."""

    def __init__(self, pid: int | None):
        self.pid = pid
        self.tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def read(self) -> tuple[float, float | None, float | None]:
        server = machine = None
        with contextlib.suppress(OSError, ValueError, IndexError):
            if self.pid is not None:
                fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
                server = (int(fields[11]) + int(fields[12])) / self.tick  # utime + stime
            times = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
            machine = (sum(times[:8]) - times[3] - times[4]) / self.tick  # all but idle and iowait
        return time.process_time(), server, machine

    def used(self, before: tuple[float, float | None, float | None], seconds: float) -> Usage:
        after = self.read()
        server, machine = (
            (None if b is None or a is None else (a - b) / seconds) for b, a in zip(before[1:], after[1:], strict=True)
        )
        return Usage(server, (after[0] - before[0]) / seconds, machine)


def ask_alone(url: str, fn_index: int, questions: list[str], k: int, retriever: str) -> dict[str, Reply]:
    """Each question once, one at a time, on a fresh connection; LoadError if any fails even so."""
    client = ApiClient(url, fn_index)
    replies = {question: client.ask(question, k, retriever) for question in questions}
    client.close()
    failed = [f"{q!r}: {r.error}" for q, r in replies.items() if r.error]
    if failed:
        raise LoadError(f"{len(failed)} questions fail even when asked alone, e.g. {failed[0]}")
    return replies


def ask_together(
    url: str, fn_index: int, plan: list[list[str]], k: int, retriever: str, meter: CpuMeter
) -> tuple[list[tuple[str, Reply]], float, Usage]:
    """All users at once, each with its own session, released together; (question, reply) pairs, seconds, CPU used."""
    replies: list[list[tuple[str, Reply]]] = [[] for _ in plan]
    start = threading.Barrier(len(plan) + 1)

    def user(number: int) -> None:
        client = ApiClient(url, fn_index)
        start.wait()
        for question in plan[number]:
            replies[number].append((question, client.ask(question, k, retriever)))
        client.close()

    threads = [threading.Thread(target=user, args=(n,), daemon=True) for n in range(len(plan))]
    for thread in threads:
        thread.start()
    start.wait()
    began, before = time.perf_counter(), meter.read()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    return [pair for asks in replies for pair in asks], seconds, meter.used(before, seconds)


def run_load(
    url: str,
    users: int = 20,
    questions_per_user: int = 10,
    k: int = 5,
    retriever: str = "hybrid",
    questions: list[str] | None = None,
    server_pid: int | None = None,
) -> LoadReport:
    """Warm up, put all users to work at once, then ask every question alone for its reference; compare and time.

    The references come after the load so that under load each question reaches the server for the
    first time, as a new user's would (the server caches question vectors)."""
    fn_index = endpoint_index(url)
    plan = schedule(questions or gold_questions(), users, questions_per_user)
    distinct = list(dict.fromkeys(q for asks in plan for q in asks))
    ask_alone(url, fn_index, [WARM_UP], k, retriever)
    done, seconds, cores = ask_together(url, fn_index, plan, k, retriever, CpuMeter(server_pid))
    alone = ask_alone(url, fn_index, distinct, k, retriever)

    errors = [f"error: {q!r}: {r.error}" for q, r in done if r.error]
    mixed = [
        f"mixed: {q!r} got {r.answer.get('text')!r} instead of {alone[q].answer.get('text')!r}"
        for q, r in done
        if r.answer is not None and r.answer != alone[q].answer
    ]
    answered = [r for _, r in done if r.answer is not None and r.answering_s is not None]
    return LoadReport(
        url=url,
        users=users,
        questions_per_user=questions_per_user,
        k=k,
        retriever=retriever,
        distinct_questions=len(distinct),
        requests=len(done),
        errors=len(errors),
        mixed=len(mixed),
        seconds=seconds,
        throughput=len(done) / seconds,
        latency=Percentiles.of([r.total_s for _, r in done]),
        answering=Percentiles.of([r.answering_s for r in answered]),
        waiting=Percentiles.of([r.total_s - r.answering_s for r in answered]),
        alone_latency=Percentiles.of([r.total_s for r in alone.values()]),
        alone_answering=Percentiles.of([r.answering_s for r in alone.values() if r.answering_s is not None]),
        cores=cores,
        samples=(errors + mixed)[:10],
    )


@dataclass
class Server:
    url: str
    pid: int


def copy_index(index_dir: Path, target: Path) -> bool:
    """Copy the index's commit and segments (not other folders kept beside them); False when there is none to copy."""
    if not (index_dir / COMMIT_FILE).is_file():
        return False
    target.mkdir(parents=True)
    shutil.copy2(index_dir / COMMIT_FILE, target / COMMIT_FILE)
    shutil.copytree(index_dir / SEGMENTS_DIR, target / SEGMENTS_DIR)
    return True


@contextlib.contextmanager
def served(corpus: Path, index_dir: Path) -> Iterator[Server]:
    """app.py on a free port over `corpus` and a temporary copy of `index_dir`, until the block ends."""
    with tempfile.TemporaryDirectory(prefix="verbatim-load-") as tmp:
        work = Path(tmp)
        if not copy_index(Path(index_dir), work / "index"):
            print(f"no current index at {index_dir}: app.py builds one of {corpus} in a temporary folder")
        with app_server(corpus, work / "index", log=work / "app.log", timeout=START_TIMEOUT_S) as (url, process):
            yield Server(f"{url}/", process.pid)


def print_report(report: LoadReport) -> None:
    print(
        f"\n{report.users} users × {report.questions_per_user} questions, k={report.k}, {report.retriever}, "
        f"{report.distinct_questions} distinct questions, {report.url}"
    )
    print(
        f"requests {report.requests}   errors {report.errors}   mixed {report.mixed}   "
        f"{report.seconds:.1f} s   throughput {report.throughput:.1f} answers/s"
    )
    print("latency (ms)")
    print(f"  {'under load':<14}{report.latency.ms()}")
    print(f"  {'  answering':<14}{report.answering.ms()}")
    print(f"  {'  waiting':<14}{report.waiting.ms()}   (queue and trip)")
    print(f"  {'alone':<14}{report.alone_latency.ms()}")
    print(f"  {'  answering':<14}{report.alone_answering.ms()}")
    usage = report.cores
    cores = [
        f"{name} {value:.2f}"
        for name, value in (
            ("server", usage.server),
            ("client", usage.client),
            ("machine", usage.machine),
            ("other processes", usage.others),
        )
        if value is not None
    ]
    print(f"CPU cores used under load ({os.cpu_count()} here): " + ", ".join(cores))
    for sample in report.samples:
        print(f"  {sample}")


def main(argv: list[str] | None = None) -> LoadReport:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=None, help="a running web chat (default: start app.py on a copy of the index)")
    parser.add_argument("--corpus", type=Path, default=ARTICLES)
    parser.add_argument("--index-dir", type=Path, default=ROOT / "index")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--questions-per-user", type=int, default=10)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--retriever", default="hybrid")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)

    options = {
        "users": args.users,
        "questions_per_user": args.questions_per_user,
        "k": args.k,
        "retriever": args.retriever,
    }
    if args.url:
        report = run_load(args.url, **options)
    else:
        with served(args.corpus, args.index_dir) as server:
            report = run_load(server.url, server_pid=server.pid, **options)
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(asdict(report), indent=2), encoding="utf-8")
        print(f"\nwrote {args.json}")
    return report


if __name__ == "__main__":
    try:
        main()
    except (LoadError, ServerDidNotStart) as exc:
        sys.exit(f"load.py: error: {exc}")
