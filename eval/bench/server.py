"""The chat served from a child process (`python app.py`, which runs `rag serve`), as the benchmarks and the tests
start it: on a free port, waited for until its page answers, stopped when the block ends."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from eval import ROOT, child_env


class ServerDidNotStart(RuntimeError):
    """app.py exited, or did not answer in time; the message ends with its log."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def app_server(
    corpus: Path, index_dir: Path, *options: str, log: Path, env: dict | None = None, timeout: float = 300
) -> Iterator[tuple[str, subprocess.Popen]]:
    """(its URL without a trailing slash, the process) of app.py over `corpus` and `index_dir` with `options`, its
    output in `log` and `env` added to this process's environment, until the block ends."""
    port = free_port()
    command = [sys.executable, str(ROOT / "app.py"), "--corpus", str(Path(corpus).resolve())]
    command += ["--index-dir", str(index_dir), "--port", str(port), *options]
    with open(log, "w") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=child_env(**(env or {}))
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process, log, timeout)
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(url: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerDidNotStart(f"app.py exited with status {process.returncode}:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.5)
    raise ServerDidNotStart(f"app.py did not answer at {url} within {timeout:.0f} s:\n{log.read_text()[-3000:]}")
