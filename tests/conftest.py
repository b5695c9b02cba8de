"""Shared fixtures: the real packaged model and real indexes on disk, built once per session."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

import rag
from eval.bench.server import free_port  # noqa: F401 -- the tests take it from here
from rag.confidence import Confidence
from rag.embedding import Embedder
from rag.reader import Reader, default_reader

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = ROOT / "data" / "articles"
SHIPPED = [
    "000_9cebef51757e5eed.txt",
    "001_50e1bebe41a30cea.txt",
    "002_aa8d7564ce6ae218.txt",
    "003_11d5bc04a0aec479.txt",
    "004_cb8e39e41f690045.txt",
]  # the ids of the shipped articles in ARTICLES


def sharded_copy(root: Path) -> None:
    """The shipped articles copied to root/corpus and indexed in 2 shards at root/index by `rag index --shards 2`."""
    shutil.copytree(ARTICLES, root / "corpus")
    command = [sys.executable, "-m", "rag.cli", "index", str(root / "corpus"), "--index-dir", str(root / "index")]
    subprocess.run([*command, "--shards", "2"], check=True, capture_output=True)


def reader_with(threshold: float, answered: float) -> Reader:
    """The shipped reader with its thresholds moved: below `threshold` it abstains, from `answered` up an answer is sure."""
    shipped = Confidence.load(Path(default_reader()) / "calibration.json")
    return Reader(confidence=replace(shipped, threshold=threshold, answered=answered))


def reader_for(state: str, probability: float) -> Reader:
    """The shipped reader with thresholds that put an answer this probable in `state`."""
    return reader_with(
        *{
            "answered": (0.0, probability / 2),
            "tentative": (probability / 2, (1 + probability) / 2),
            "abstained": ((1 + probability) / 2, 1.0),
        }[state]
    )


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder()


@pytest.fixture(scope="session")
def articles_index(tmp_path_factory, embedder) -> Path:
    """An index of the shipped articles (built once; tests must not modify it)."""
    index_dir = tmp_path_factory.mktemp("articles-index")
    from rag.indexing import Indexer

    Indexer(embedder).run(ARTICLES, index_dir)
    return index_dir


@pytest.fixture(scope="session")
def qa(articles_index, embedder) -> rag.QA:
    from rag.store import IndexStore

    return rag.QA(IndexStore.open(articles_index), embedder)


@pytest.fixture
def corpus(tmp_path) -> Path:
    """A writable copy of the shipped articles."""
    target = tmp_path / "corpus"
    shutil.copytree(ARTICLES, target)
    return target


MODEL_FIXTURES = {"embedder", "articles_index", "qa"}


def pytest_collection_modifyitems(config, items):
    """A test that uses a model's fixture is a `model` test, left out of the fast subset (-m 'not model')."""
    for item in items:
        if MODEL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.model)


@pytest.fixture(scope="session", autouse=True)
def no_models_in_the_fast_subset(request):
    """With -m 'not model', loading the embedding model or the reader fails the test: it needs the `model` mark."""
    if "not model" not in (request.config.option.markexpr or ""):
        yield
        return

    def refused(*args, **kwargs):
        raise RuntimeError("this test loads a model: mark it @pytest.mark.model")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Embedder, "__init__", refused)
        patch.setattr(Reader, "__init__", refused)
        yield


CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium, driven by Playwright (scripts/test.sh installs it)."""
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (scripts/test.sh installs Debian's chromium)")
        pytest.skip("chromium is not installed: run scripts/test.sh, which installs it")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
