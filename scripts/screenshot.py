"""Regenerate docs/screenshot.png from a fresh run: `rag serve` on a copy of data/articles, a question and its
follow-up asked in headless Chromium at 1400×1000.

    .venv/bin/python scripts/screenshot.py [--out docs/screenshot.png]
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
QUESTIONS = ["Who said Putin is trying to manipulate Trump?", "When did he say it?"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(1)
    raise SystemExit(f"the chat did not start at {url}")


def ask(page, question: str) -> None:
    answers = page.locator(".vb-answer, .vb-abstain").count()
    page.fill("#vb-question textarea", question)
    page.click("#vb-ask")
    page.wait_for_function(f"document.querySelectorAll('.vb-answer, .vb-abstain').length > {answers}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshot.png"))
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(ROOT / "data" / "articles", Path(tmp) / "corpus")
        port = free_port()
        command = [
            sys.executable,
            "-m",
            "rag.cli",
            "serve",
            "--corpus",
            f"{tmp}/corpus",
            "--index-dir",
            f"{tmp}/index",
            "--port",
            str(port),
        ]
        with subprocess.Popen(command, cwd=ROOT) as server:
            try:
                url = f"http://127.0.0.1:{port}"
                wait_for(url)
                with sync_playwright() as playwright:
                    browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
                    page = browser.new_page(viewport={"width": 1400, "height": 1000})
                    page.set_default_timeout(60_000)
                    page.goto(url)
                    page.wait_for_selector("#vb-question textarea")
                    for question in QUESTIONS:
                        ask(page, question)
                    page.wait_for_timeout(500)
                    page.screenshot(path=args.out)
                    browser.close()
            finally:
                server.terminate()
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
