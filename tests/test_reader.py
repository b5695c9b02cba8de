import json
import shutil

import numpy as np
import pytest

from rag.confidence import Confidence
from rag.errors import ModelNotFoundError
from rag.reader import DEFAULT_READER, MAX_LENGTH, Reader, Windows, encode, read_spans

pytestmark = pytest.mark.model

PESKOV = (
    "Kremlin spokesman Dmitry Peskov told reporters on Monday that no date had been set for the talks, "
    "adding that Moscow was waiting for signals from Washington."
)
WEATHER = "Heavy snow fell across the Moscow region on Monday, and airports reported delays of several hours."


@pytest.fixture(scope="module")
def reader() -> Reader:
    return Reader()


def test_shipped_reader_finds_the_answer_span(reader):
    reading = reader.run("Who is the Kremlin spokesman?", [PESKOV])
    assert PESKOV[reading.best.start : reading.best.end] == "Dmitry Peskov"
    assert reading.best.probability > reading.no_answer


def test_scores_are_shared_across_passages_so_the_reader_reranks(reader):
    reading = reader.run("Who is the Kremlin spokesman?", [WEATHER, PESKOV, WEATHER.replace("snow", "rain")])
    assert reading.best.passage == 1
    assert [r.probability for r in reading.spans] == sorted((r.probability for r in reading.spans), reverse=True)
    assert sum(r.probability for r in reading.spans) + reading.no_answer <= 1.0 + 1e-6


def test_a_passage_without_the_answer_reads_as_no_answer(reader):
    alone = reader.run("Who is the Kremlin spokesman?", [WEATHER])
    assert alone.no_answer > alone.best.probability


def test_a_long_passage_is_read_in_overlapping_windows_and_offsets_stay_exact(reader):
    filler = " ".join(f"Sentence number {i} says nothing about the talks." for i in range(60))
    passage = f"{filler} {PESKOV} {filler}"
    windows = encode(reader._load()[0], "Who is the Kremlin spokesman?", [passage])
    assert len(windows) > 3 and windows.input_ids.shape[1] <= MAX_LENGTH
    reading = reader.run("Who is the Kremlin spokesman?", [passage])
    assert passage[reading.best.start : reading.best.end] == "Dmitry Peskov"


def test_an_excluded_range_is_never_the_span_and_the_next_best_one_is_read_instead(reader):
    said = PESKOV.index("Dmitry Peskov"), PESKOV.index("Dmitry Peskov") + len("Dmitry Peskov")
    reading = reader.run("Who is the Kremlin spokesman?", [PESKOV], excluded={0: [said]})
    assert reading.best.end <= said[0] or reading.best.start >= said[1]
    assert reading.best.probability < reader.run("Who is the Kremlin spokesman?", [PESKOV]).best.probability


def test_no_passages_means_no_answer(reader):
    reading = reader.run("Who is the Kremlin spokesman?", [])
    assert reading.best is None and reading.no_answer == 1.0


def test_shipped_model_is_compact_and_calibrated():
    assert (DEFAULT_READER / "model.safetensors").stat().st_size < 50 * 2**20
    confidence = Confidence.load(DEFAULT_READER / "calibration.json")
    assert confidence.weights and 0 < confidence.threshold < 1
    report = json.loads((DEFAULT_READER / "calibration-report.json").read_text())
    assert report["threshold"] == confidence.threshold and report["weights"] == confidence.weights
    card = (DEFAULT_READER / "README.md").read_text()
    assert (
        "## Confidence" in card
        and "## Reproduce" in card
        and "?" not in card.split("## Training\n")[1].split("## Reproduce")[0]
    )


def test_the_weights_are_exported_once_per_machine_in_both_precisions(tmp_path, monkeypatch):
    monkeypatch.setenv("VERBATIM_CACHE", str(tmp_path))
    monkeypatch.delenv("VERBATIM_READER_PRECISION", raising=False)
    fast = Reader()
    reading = fast.run("Who is the Kremlin spokesman?", [PESKOV])
    [export] = (tmp_path / "reader").iterdir()
    assert {p.name for p in export.glob("model-*.onnx")} == {"model-fp32.onnx", "model-int8.onnx"}
    [record] = export.glob("precision-*.json")
    assert json.loads(record.read_text())["precision"] == fast.running
    written = (export / "model-int8.onnx").stat().st_mtime_ns
    other = "fp32" if fast.running == "int8" else "int8"
    again = Reader(precision=other).run("Who is the Kremlin spokesman?", [PESKOV])
    assert [p.name for p in (tmp_path / "reader").iterdir()] == [export.name]
    assert (export / "model-int8.onnx").stat().st_mtime_ns == written
    assert PESKOV[again.best.start : again.best.end] == PESKOV[reading.best.start : reading.best.end] == "Dmitry Peskov"


def test_missing_reader_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ModelNotFoundError, match="no reader model at .*VERBATIM_READER"):
        Reader(tmp_path / "nowhere").run("Who?", [PESKOV])


@pytest.mark.parametrize("damage", ["model", "calibration", "tokenizer"])
def test_damaged_reader_folder_is_a_clear_error(tmp_path, damage):
    folder = tmp_path / "reader"
    shutil.copytree(DEFAULT_READER, folder)
    if damage == "model":
        (folder / "model.safetensors").write_bytes(b"not a safetensors file")
    elif damage == "calibration":
        (folder / "calibration.json").write_text("{broken")
    else:
        (folder / "tokenizer.json").write_text("{broken")
    with pytest.raises(ModelNotFoundError, match="cannot be loaded"):
        Reader(folder).run("Who?", [PESKOV])


def synthetic_windows() -> Windows:
    """Two passages: passage 0 in one window (tokens 3-6), passage 1 in two windows (tokens 3-6 each)."""
    offsets = np.full((3, 8, 2), -1)
    for w, first_char in ((0, 0), (1, 0), (2, 8)):
        for t in range(3, 7):
            offsets[w, t] = (first_char + 2 * (t - 3), first_char + 2 * (t - 3) + 1)
    valid = offsets[:, :, 0] >= 0
    valid[:, 0] = True
    ones = np.ones((3, 8), dtype=np.int64)
    return Windows(ones, ones, ones, np.array([0, 1, 1]), offsets, valid)


def test_spans_stay_inside_one_window_of_passage_text_and_within_the_length_limit():
    windows = synthetic_windows()
    start, end = np.zeros((3, 8)), np.zeros((3, 8))
    start[:, 0] = end[:, 0] = 50  # [CLS] is no span
    start[:, 1] = end[:, 1] = 40  # nor is a question token
    start[1, 6], end[2, 3] = 5, 5  # a span would cross from window 1 into window 2: not allowed
    start[2, 4], end[2, 5] = 3, 3
    reading = read_spans(windows, start, end, max_answer_tokens=3)
    best = {r.passage: r for r in reading.spans}
    assert (best[1].start, best[1].end) == (10, 13)  # window 2, tokens 4-5 → characters 8 + 2 .. 8 + 5
    assert best[0].end - best[0].start <= 2 * 3
    assert reading.no_answer > max(r.probability for r in reading.spans)


def test_the_odds_of_a_span_against_no_answer_do_not_change_when_more_passages_without_it_are_read():
    windows = synthetic_windows()
    start, end = np.full((3, 8), -5.0), np.full((3, 8), -5.0)
    start[:, 0] = end[:, 0] = 5.0  # every window says "not here" equally
    start[0, 4] = end[0, 5] = 8.0  # passage 0 holds a span
    one = Windows(
        *(
            getattr(windows, f)[:1]
            for f in ("input_ids", "attention_mask", "token_type_ids", "passage", "offsets", "valid")
        )
    )
    alone, among_three = read_spans(one, start[:1], end[:1]), read_spans(windows, start, end)
    assert alone.best.passage == among_three.best.passage == 0
    odds = lambda r: np.log(r.best.probability) - np.log(r.no_answer)  # noqa: E731
    assert odds(among_three) == pytest.approx(odds(alone), abs=1e-6)
