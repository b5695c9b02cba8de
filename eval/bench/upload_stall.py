"""Does indexing an upload hold questions up? Question latency in the web chat, idle and while an upload is indexed.

Starts app.py on a temporary copy of data/articles (it builds its index there), then, over HTTP:

1. idle: asks the even-numbered questions of eval/data/gold.jsonl one after the other through the named
   endpoint /ask (gradio_client), after a few warm-up questions;
2. uploads one generated article of --size bytes (the shipped articles repeated: real text) to
   Gradio's upload route and presses "Add to library" as the page does (Gradio's queue), timing the click;
3. busy: asks the odd-numbered questions, round and round, until the index's COMMIT file is replaced
   (the upload is indexed), so every question timed was asked while indexing was under way.

Idle and busy questions differ, so no answer comes from the question-vector cache. Prints p50 / p95 /
max of both and their ratio. Run it with nothing else busy on the machine:

    python -m eval.bench.upload_stall [--size 500000] [--idle 40]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
from gradio_client import Client

from eval import ARTICLES, GOLD
from eval.bench.server import app_server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--size", type=int, default=500_000, help="bytes of the uploaded article (default: %(default)s)"
    )
    parser.add_argument("--idle", type=int, default=40, help="questions timed idle (default: %(default)s)")
    args = parser.parse_args()
    questions = [json.loads(line)["question"] for line in GOLD.read_text().splitlines() if line.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copytree(ARTICLES, root / "corpus")
        upload = write_article(root / "upload" / "digest.txt", args.size)
        with serving(root) as url:
            client = Client(url, verbose=False)
            for question in questions[-5:]:
                client.predict(question, api_name="/ask")  # warm-up
            idle = [timed(client, q) for q in (questions[0::2] * 2)[: args.idle]]
            commit = (root / "index" / "COMMIT").read_bytes()
            started = time.perf_counter()
            click = press_add(url, upload)
            busy, odd = [], questions[1::2]
            while (root / "index" / "COMMIT").read_bytes() == commit:
                busy.append(timed(client, odd[len(busy) % len(odd)]))
            indexed = time.perf_counter() - started
    print(f"upload: {args.size:,} bytes; the click returned in {click:.2f} s; indexed in {indexed:.1f} s")
    print(f"idle: {summary(idle)}")
    print(f"while indexing: {summary(busy)}")
    print(
        f"ratio: p50 {statistics.median(busy) / statistics.median(idle):.2f}×, "
        f"p95 {percentile(busy, 95) / percentile(idle, 95):.2f}×"
    )


def write_article(path: Path, size: int) -> Path:
    texts = [p.read_text() for p in sorted(ARTICLES.glob("*.txt"))]
    parts, n = [], 0
    while sum(map(len, parts)) < size:
        parts.append(f"Copy {n}\n\n{texts[n % len(texts)]}")
        n += 1
    path.parent.mkdir(parents=True)
    path.write_text("\n\n".join(parts)[:size])
    return path


@contextlib.contextmanager
def serving(root: Path) -> Iterator[str]:
    """app.py on a free port, on the corpus and index under `root`, with its own Gradio upload folder; its URL."""
    with app_server(
        root / "corpus", root / "index", log=root / "app.log", env={"GRADIO_TEMP_DIR": str(root / "gradio")}
    ) as (url, _):
        yield f"{url}/"


def timed(client: Client, question: str) -> float:
    started = time.perf_counter()
    client.predict(question, 5, "hybrid", api_name="/ask")
    return time.perf_counter() - started


def press_add(url: str, path: Path) -> float:
    """Upload the file and press "Add to library" through Gradio's queue, as the page does; seconds the click took."""
    config = httpx.get(url + "config").json()
    button = next(c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == "vb-add")
    fn_index = next(d["id"] for d in config["dependencies"] if [button, "click"] in d["targets"])
    api = url + config["api_prefix"].lstrip("/")
    with path.open("rb") as file:
        server_path = httpx.post(f"{api}/upload", files={"files": (path.name, file)}, timeout=60).json()[0]
    session = uuid.uuid4().hex
    files = [
        {"path": server_path, "orig_name": path.name, "size": path.stat().st_size, "meta": {"_type": "gradio.FileData"}}
    ]
    started = time.perf_counter()
    httpx.post(
        f"{api}/queue/join",
        json={
            "data": [files, None],
            "fn_index": fn_index,
            "trigger_id": button,
            "session_hash": session,
            "event_data": None,
        },
    ).raise_for_status()
    with httpx.stream("GET", f"{api}/queue/data", params={"session_hash": session}, timeout=120) as events:
        for line in events.iter_lines():
            if line.startswith("data:") and json.loads(line[5:]).get("msg") == "process_completed":
                return time.perf_counter() - started
    raise SystemExit("the click's event did not complete")


def percentile(values: list[float], q: int) -> float:
    return sorted(values)[max(0, round(q / 100 * len(values)) - 1)]


def summary(seconds: list[float]) -> str:
    return (
        f"{len(seconds)} questions, p50 {1000 * statistics.median(seconds):.0f} ms, "
        f"p95 {1000 * percentile(seconds, 95):.0f} ms, max {1000 * max(seconds):.0f} ms"
    )


if __name__ == "__main__":
    main()
