"""ONNX exports made once per machine (rag/exports.py), with a cheap fake exporter, and the file helpers and settings
they stand on (rag/files.py, rag/settings.py)."""

import hashlib
import os
import shutil
import stat
import threading
from pathlib import Path

import pytest

from rag import settings
from rag.exports import exported
from rag.files import cache_dir, sha256_of, write_atomically


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("VERBATIM_CACHE", str(folder))
    return folder


@pytest.fixture
def model(tmp_path) -> Path:
    folder = tmp_path / "tiny-model"
    (folder / "sub").mkdir(parents=True)
    (folder / "weights.bin").write_bytes(b"\x00\x01\x02")
    (folder / "config.json").write_text('{"layers": 1}')
    (folder / "sub" / "vocab.txt").write_text("a\nb\n")
    return folder


class Exporter:
    """Writes model.onnx, then the `ready` file last; counts its calls."""

    def __init__(self, fail: bool = False, barrier: threading.Barrier | None = None):
        self.calls = 0
        self.fail = fail
        self.barrier = barrier
        self.lock = threading.Lock()

    def __call__(self, folder: Path) -> None:
        with self.lock:
            self.calls += 1
        (folder / "model.onnx").write_bytes(b"onnx")
        if self.barrier:
            self.barrier.wait(timeout=30)
        if self.fail:
            raise RuntimeError("the exporter broke")
        (folder / "done").write_text("ok")


def leftovers(cache: Path) -> list[str]:
    return sorted(p.name for p in (cache / "kind").iterdir() if p.name.startswith("."))


def test_an_export_is_made_once_then_reused(cache, model):
    export = Exporter()
    folder = exported("kind", model, 1, export, "done")
    assert export.calls == 1
    assert (
        folder.parent == cache / "kind"
        and folder.name.startswith("tiny-model-")
        and len(folder.name) == len("tiny-model-") + 16
    )
    assert sorted(p.name for p in folder.iterdir()) == ["done", "model.onnx"]
    assert (folder / "model.onnx").read_bytes() == b"onnx"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755  # a shared cache is readable by everyone
    assert exported("kind", model, 1, export, "done") == folder
    assert export.calls == 1
    assert leftovers(cache) == []


def test_a_changed_model_file_or_exporter_version_exports_again(cache, model):
    export = Exporter()
    first = exported("kind", model, 1, export, "done")
    (model / "sub" / "vocab.txt").write_text("a\nb\nc\n")
    second = exported("kind", model, 1, export, "done")
    assert second != first and export.calls == 2
    third = exported("kind", model, 2, export, "done")
    assert third not in (first, second) and export.calls == 3
    assert sorted(p.name for p in (cache / "kind").iterdir()) == sorted([first.name, second.name, third.name])


def test_a_touched_model_file_exports_again(cache, model):
    export = Exporter()
    first = exported("kind", model, 1, export, "done")
    stamp = (model / "weights.bin").stat().st_mtime_ns
    os.utime(model / "weights.bin", ns=(stamp + 10**9, stamp + 10**9))
    assert exported("kind", model, 1, export, "done") != first and export.calls == 2


def test_only_the_inputs_named_key_the_export(cache, model):
    export = Exporter()
    first = exported("kind", model, 1, export, "done", inputs=("weights.bin", "config.json"))
    (model / "sub" / "vocab.txt").write_text("changed")  # not an input
    assert exported("kind", model, 1, export, "done", inputs=("config.json", "weights.bin")) == first
    assert export.calls == 1
    (model / "config.json").write_text('{"layers": 2}')
    assert exported("kind", model, 1, export, "done", inputs=("weights.bin", "config.json")) != first
    assert export.calls == 2


def test_a_failed_export_leaves_nothing_and_a_later_call_retries(cache, model):
    with pytest.raises(RuntimeError, match="the exporter broke"):
        exported("kind", model, 1, Exporter(fail=True), "done")
    assert list((cache / "kind").iterdir()) == []
    export = Exporter()
    folder = exported("kind", model, 1, export, "done")
    assert export.calls == 1 and (folder / "done").read_text() == "ok"
    assert leftovers(cache) == []


def test_the_ready_file_marks_an_export_complete(cache, model):
    export = Exporter()
    folder = exported("kind", model, 1, export, "done")
    shutil.rmtree(folder)
    folder.mkdir()
    (folder / "done").write_text("")  # only the ready file: enough to count as complete
    assert exported("kind", model, 1, export, "done") == folder
    assert export.calls == 1


def test_an_incomplete_folder_in_the_way_is_an_error_not_an_answer(cache, model):
    export = Exporter()
    folder = exported("kind", model, 1, export, "done")
    (folder / "done").unlink()  # as if the export had never finished
    with pytest.raises(OSError):
        exported("kind", model, 1, export, "done")
    assert export.calls == 2 and leftovers(cache) == []


def test_two_threads_exporting_at_once_end_with_one_complete_folder(cache, model):
    export = Exporter(barrier=threading.Barrier(2))
    found, errors = [], []

    def run():
        try:
            found.append(exported("kind", model, 1, export, "done"))
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == [] and export.calls == 2  # both exported: neither saw the other's folder first
    assert found[0] == found[1]
    assert [p.name for p in (cache / "kind").iterdir()] == [found[0].name]
    assert sorted(p.name for p in found[0].iterdir()) == ["done", "model.onnx"]


# rag/files.py


def test_write_atomically_writes_the_content_and_makes_the_folders(tmp_path):
    target = tmp_path / "a" / "b" / "out.txt"
    write_atomically(target, "héllo")
    assert target.read_bytes() == "héllo".encode()
    write_atomically(target, b"\x00bytes")
    assert target.read_bytes() == b"\x00bytes"
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_write_atomically_gives_the_mode_of_a_new_file(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        write_atomically(tmp_path / "out.txt", "x")
        with open(tmp_path / "plain.txt", "w") as file:
            file.write("x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "out.txt").stat().st_mode) == mode
    assert stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode) == mode


def test_a_failed_write_leaves_the_old_file_and_no_leftovers(tmp_path, monkeypatch):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(TypeError):
        write_atomically(target, 42)  # not bytes: the write fails
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["out.txt"]

    def no_rename(*args):
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", no_rename)
    with pytest.raises(OSError, match="disk gone"):
        write_atomically(target, "new")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_sha256_of(tmp_path):
    (tmp_path / "abc").write_bytes(b"abc")
    (tmp_path / "empty").write_bytes(b"")
    assert sha256_of(tmp_path / "abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert sha256_of(str(tmp_path / "empty")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    big = bytes(range(256)) * 5000  # past one read block
    (tmp_path / "big").write_bytes(big)
    assert sha256_of(tmp_path / "big") == hashlib.sha256(big).hexdigest()


def test_cache_dir_prefers_verbatim_cache_then_xdg_then_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("VERBATIM_CACHE", str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "mine"
    assert cache_dir("onnx", "reader") == tmp_path / "mine" / "onnx" / "reader"
    monkeypatch.setenv("VERBATIM_CACHE", "")  # empty: not set
    assert cache_dir("x") == tmp_path / "xdg" / "verbatim" / "x"
    monkeypatch.delenv("VERBATIM_CACHE")
    assert cache_dir() == tmp_path / "xdg" / "verbatim"
    monkeypatch.setenv("XDG_CACHE_HOME", "")
    assert cache_dir() == tmp_path / "home" / ".cache" / "verbatim"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_dir("x") == tmp_path / "home" / ".cache" / "verbatim" / "x"


# rag/settings.py


def test_a_setting_is_read_from_its_variable(monkeypatch):
    monkeypatch.setenv("VERBATIM_PORT", "9000")
    monkeypatch.setenv("VERBATIM_AUTH", "ann:abc")
    assert settings.get("PORT") == "9000" and settings.get("AUTH") == "ann:abc"


def test_an_unset_or_empty_setting_is_its_default(monkeypatch):
    monkeypatch.delenv("VERBATIM_PORT", raising=False)
    monkeypatch.setenv("VERBATIM_HOST", "")
    monkeypatch.delenv("VERBATIM_AUTH", raising=False)
    assert settings.get("PORT") == "7860" and settings.get("HOST") == "127.0.0.1" and settings.get("AUTH") is None
    monkeypatch.setenv("VERBATIM_INDEX_DIR", "")
    assert settings.get("INDEX_DIR") == "index"


def test_an_unknown_setting_is_an_error(monkeypatch):
    monkeypatch.setenv("VERBATIM_NOPE", "1")
    with pytest.raises(KeyError, match="unknown setting VERBATIM_NOPE"):
        settings.get("NOPE")
    with pytest.raises(KeyError):
        settings.get("port")  # names are upper case


def test_described_lists_every_setting_with_its_default():
    lines = settings.described().splitlines()
    assert len(lines) == len(settings.SETTINGS)
    assert lines[0] == "  VERBATIM_CORPUS: articles folder the web chat serves (default: data/articles)"
    assert "  VERBATIM_AUTH: users allowed to change the library, as user:HASH, comma-separated" in lines  # no default
    assert [line.split(":")[0].strip() for line in lines] == [f"VERBATIM_{name}" for name in settings.SETTINGS]
