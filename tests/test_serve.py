"""`rag serve` (and `python app.py`, its launcher): its options, the line that says where to open the chat, and
the layer rule that keeps Gradio out of `import rag`."""

import ast
import os
import shutil
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import ARTICLES, ROOT, free_port

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def python(*args, **options):
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=120, cwd=ROOT, env=ENV, **options
    )


def test_serve_help_lists_the_servers_options_and_app_py_is_the_same_command():
    helped = python("-m", "rag.cli", "serve", "--help")
    assert helped.returncode == 0, helped.stderr
    for option in ("--corpus", "--index-dir", "--host", "--port", "--reader", "--auth", "--auth-file", "--read-only"):
        assert option in helped.stdout
    assert python("app.py", "--help").stdout == helped.stdout


def test_import_rag_and_its_command_line_do_not_load_gradio():
    probe = "import sys, rag, rag.cli; rag.cli._parser(); print('gradio' in sys.modules); import rag.web; print('gradio' in sys.modules)"
    assert python("-c", probe).stdout.split() == ["False", "True"]


def test_nothing_in_rag_imports_the_web_app_but_the_command_line():
    importers = []
    for path in (ROOT / "rag").rglob("*.py"):
        if path.parent.name == "web" or path.name == "cli.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [f"{'.' * node.level}{node.module or ''}"] + [f"{'.' * node.level}{a.name}" for a in node.names]
            if any(n in ("rag.web", ".web") or n.startswith(("rag.web.", ".web.")) for n in names):
                importers.append(str(path.relative_to(ROOT)))
    assert not importers


@pytest.mark.model  # the server it starts loads the embedding model and the reader
def test_serve_builds_the_index_then_says_in_one_line_where_to_open_the_chat(tmp_path):
    shutil.copytree(ARTICLES, tmp_path / "corpus")
    port, log_path = free_port(), tmp_path / "serve.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "rag.cli",
                "serve",
                "--corpus",
                str(tmp_path / "corpus"),
                "--index-dir",
                str(tmp_path / "index"),
                "--port",
                str(port),
                "--read-only",
            ],
            cwd=ROOT,
            env=ENV,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        expected = f"Verbatim is serving {tmp_path / 'corpus'} at http://127.0.0.1:{port}\n"
        deadline = time.time() + 240
        while expected not in log_path.read_text() and process.poll() is None and time.time() < deadline:
            time.sleep(0.5)
        output = log_path.read_text()
        assert expected in output, output
        assert "5 added" in output and "library changes: read-only" in output  # the index was built first
        assert "share=True" not in output and "Running on local URL" not in output
        assert b"Verbatim" in urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).read()
    finally:
        process.terminate()
        process.wait(timeout=30)
