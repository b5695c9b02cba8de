import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import rag
from rag.cli import shown
from tests.conftest import ARTICLES, reader_for

RAG = [sys.executable, "-m", "rag.cli"]
KREMLIN = "Who is the Kremlin spokesperson?"
CAKE = "What is the recipe for a chocolate cake?"
PESKOV = (
    "Kremlin spokesperson Dmitry Peskov stated on Thursday, “We do not perceive anything new in this context,” when "
    "asked about Trump’s economic ultimatums."
)  # 000_9cebef51757e5eed.txt, line 20, chars 3269-3420


def run(*args, cwd=None):
    return subprocess.run(
        [*RAG, *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )


def test_index_then_ask_prints_quote_file_and_line(tmp_path):
    index_dir = str(tmp_path / "index")
    built = run("index", str(ARTICLES), "--index-dir", index_dir)
    assert built.returncode == 0, built.stderr
    assert "5 added" in built.stdout and "indexing" in built.stderr  # progress bar on stderr

    again = run("index", str(ARTICLES), "--index-dir", index_dir)
    assert "5 unchanged" in again.stdout and "embedded 0 chunks" in again.stdout

    asked = run("ask", "Who is the Kremlin spokesperson?", "--index-dir", index_dir)
    assert asked.returncode == 0, asked.stderr
    lines = asked.stdout.splitlines()  # the first says the answer's state, which the shipped thresholds set
    assert lines[1:-1] == [
        f"“{PESKOV}”",
        "  — “In a recent interview conducted on Russian state television, Russian President Vladimir P…” — "
        "000_9cebef51757e5eed.txt, line 20, chars 3269-3420",  # the article's title (its first line), cut
        "  — “Russia has expressed its willingness to engage in discussions with the United States rega…” — "
        "002_aa8d7564ce6ae218.txt, line 1, chars 114-218",  # "…Putin’s spokesperson, Dmitry Peskov, confirmed this."
    ] and lines[-1].startswith("confidence 0.")

    as_json = json.loads(
        run("ask", "Who is the Kremlin spokesperson?", "--index-dir", index_dir, "--json", "-k", "3").stdout
    )
    assert len(as_json["passages"]) == 3 and as_json["citations"][0]["line"] == 20

    abstained = run("ask", "What is the recipe for a chocolate cake?", "--index-dir", index_dir)
    assert abstained.returncode == 0 and "do not answer" in abstained.stdout and "Closest passages" in abstained.stdout


def test_ask_prints_each_answer_in_the_words_of_its_state_and_json_holds_the_state(qa, articles_index):
    for question in (KREMLIN, CAKE):  # whichever state the shipped thresholds give each
        expected = qa.ask(question)
        plain = run("ask", question, "--index-dir", str(articles_index))
        assert plain.returncode == 0 and plain.stdout == shown(expected) + "\n", plain.stderr
        as_json = json.loads(run("ask", question, "--index-dir", str(articles_index), "--json").stdout)
        assert as_json["state"] == expected.state and as_json["abstained"] == (expected.state == "abstained")
    assert expected.state == "abstained" and plain.stdout.startswith(rag.NOT_ANSWERED + "\n\nClosest passages:\n")


def test_a_sure_answer_is_quoted_a_tentative_one_headed_as_such_and_an_abstention_says_so(qa, monkeypatch):
    probability, said = qa.ask(KREMLIN).confidence, {}
    for state in ("answered", "tentative", "abstained"):
        monkeypatch.setattr(qa.answer_builder, "reader", reader_for(state, probability))
        answer = qa.ask(KREMLIN)
        assert answer.state == state
        said[state] = shown(answer).splitlines()
    assert said["answered"][0] == f"“{PESKOV}”"
    assert said["answered"][-1] == f"confidence {probability:.2f}"
    assert said["tentative"] == ["The articles may not answer this. Closest quote:", *said["answered"]]
    assert said["abstained"][:3] == [rag.NOT_ANSWERED, "", "Closest passages:"] and len(said["abstained"]) == 3 + 5
    assert not any("may not answer" in line for line in said["answered"] + said["abstained"])


def test_optimize_merges_an_updated_index_into_one_segment(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(ARTICLES, corpus)
    index_dir = str(tmp_path / "index")
    assert run("index", str(corpus), "--index-dir", index_dir).returncode == 0
    (corpus / "000_9cebef51757e5eed.txt").unlink()
    (corpus / "extra.txt").write_text("The lighthouse keeper of Port Ellen retired after forty years on Friday.")
    assert "1 added" in run("index", str(corpus), "--index-dir", index_dir).stdout
    assert len(json.loads((tmp_path / "index" / "COMMIT").read_text())["segments"]) == 2

    optimized = run("index", str(corpus), "--index-dir", index_dir, "--optimize")

    assert optimized.returncode == 0 and "5 unchanged" in optimized.stdout
    [segment] = json.loads((tmp_path / "index" / "COMMIT").read_text())["segments"]
    assert segment["deleted"] == [] and segment["documents"] == 5
    assert (
        "forty years"
        in run("ask", "How long did the lighthouse keeper of Port Ellen work?", "--index-dir", index_dir).stdout
    )


def test_user_errors_exit_non_zero_with_one_line_and_no_traceback(tmp_path):
    for args, message in [
        (("ask", "Who?", "--index-dir", str(tmp_path / "none")), "no index at"),
        (("ask", "   "), "the question is empty"),
        (("index", str(tmp_path / "missing")), "corpus folder not found"),
    ]:
        result = run(*args)
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        assert result.stderr.strip().splitlines() == [result.stderr.strip()] and message in result.stderr


def test_help_explains_the_commands():
    result = run("--help")
    assert result.returncode == 0 and "index" in result.stdout and "ask" in result.stdout
    assert "--index-dir" in run("ask", "--help").stdout
