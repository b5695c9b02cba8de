"""The wheel, installed into a fresh virtual environment in a folder with no source tree, answers by itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ARTICLES, ROOT

pytestmark = pytest.mark.model
QUESTION = "Who is the Kremlin spokesperson?"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(ROOT)],
        check=True,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    [built] = out.glob("verbatim_rag-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A new venv holding only the wheel; its dependencies are this environment's, seen through a .pth line
    (installing torch again would take minutes), held to the wheel's ranges by the test."""
    home = tmp_path_factory.mktemp("elsewhere")
    venv.create(home / "venv", with_pip=True)
    python = home / "venv" / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(site, "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--ignore-installed", str(wheel)],
        check=True,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    return home


def run_there(home: Path, *command: str | Path) -> str:
    """Runs a command of the new venv in its folder, with nothing of the checkout on the path."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VERBATIM_READER")}
    done = subprocess.run([str(c) for c in command], cwd=home, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_the_wheel_holds_the_reader_and_the_web_app(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {p.name for p in (ROOT / "rag" / "models" / "reader").iterdir()}
    assert {Path(n).name for n in names if n.startswith("rag/models/reader/")} == shipped
    assert {"rag/web/__init__.py", "rag/training/__init__.py", "rag/cli.py"} <= set(names)
    assert not [n for n in names if n.startswith(("tests/", "eval/", "data/"))]


def test_the_installed_package_answers_as_the_checkout_does(installed, qa):
    bin_ = installed / "venv" / "bin"
    script = (
        f"import json, rag, rag.reader\n"
        f"qa = rag.build({str(ARTICLES)!r}, 'index')\n"
        f"answer = qa.ask({QUESTION!r})\n"
        f"print(json.dumps({{'file': rag.__file__, 'reader': str(rag.reader.DEFAULT_READER), 'answer': answer.to_dict()}}))"
    )
    found = json.loads(run_there(installed, bin_ / "python", "-c", script).strip().splitlines()[-1])
    assert found["file"].startswith(str(installed / "venv")) and found["reader"].startswith(str(installed / "venv"))
    here = qa.ask(QUESTION).to_dict()
    there = found["answer"]
    assert (there["text"], there["state"], there["span"]) == (here["text"], here["state"], here["span"])
    assert there["citations"] == here["citations"] and there["confidence"] == pytest.approx(
        here["confidence"], abs=1e-6
    )

    printed = json.loads(run_there(installed, bin_ / "rag", "ask", QUESTION, "--index-dir", "index", "--json"))
    assert (printed["text"], printed["citations"]) == (here["text"], here["citations"])
    assert "--port" in run_there(installed, bin_ / "rag", "serve", "--help")
    unmet = (
        "from importlib.metadata import requires, version\n"
        "from packaging.requirements import Requirement\n"
        "needed = [r for r in map(Requirement, requires('verbatim-rag')) if not r.marker or r.marker.evaluate({'extra': ''})]\n"
        "print([str(r) for r in needed if version(r.name) not in r.specifier])"
    )
    assert run_there(installed, bin_ / "python", "-c", unmet).strip() == "[]"  # the ranges admit what is installed
