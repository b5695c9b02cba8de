"""Question + passages → answer spans, read by a MiniLM reader trained here (models/reader, onnxruntime).

The reader gives every token of a passage a start and an end score. Scores are normalised over all
windows of all passages of one question at once (shared normalisation, Clark & Gardner 2018), so a
span's probability can be compared across passages and the reader reranks them; the [CLS] position of
each window stands for "no answer here", so the probability that the passages hold no answer comes
out of the same softmax. Training (models/train_reader.py) reads the same windows (`encode` below) and
optimises the same normalisation, over groups of two windows.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ModelNotFoundError

DEFAULT_READER = Path(__file__).resolve().parent.parent / "models" / "reader"
MAX_LENGTH = 192  # question + passage window, in word pieces; a chunk of 128 cl100k tokens fits whole
STRIDE = 64  # word pieces shared by consecutive windows of a longer passage
MAX_QUESTION_TOKENS = 48
MAX_ANSWER_TOKENS = 30


def default_reader() -> str:
    return os.environ.get("VERBATIM_READER", str(DEFAULT_READER))


@dataclass(frozen=True)
class Windows:
    """Question/passage pairs as the model reads them: one row per window (a long passage has several).

    `offsets[w, t]` are token t's character offsets in its passage, (-1, -1) outside the passage text;
    `valid[w, t]` marks the positions an answer may start or end at: passage tokens and [CLS] (no answer)."""

    input_ids: np.ndarray
    attention_mask: np.ndarray
    token_type_ids: np.ndarray
    passage: np.ndarray
    offsets: np.ndarray
    valid: np.ndarray

    def __len__(self) -> int:
        return len(self.passage)


def encode(tokenizer, question: str, passages: list[str], max_length: int = MAX_LENGTH, stride: int = STRIDE) -> Windows:
    """Tokenise the question with each passage; passages longer than one window overflow into more."""
    question_ids = tokenizer(question, add_special_tokens=False)["input_ids"]
    if len(question_ids) > MAX_QUESTION_TOKENS:
        question = tokenizer.decode(question_ids[:MAX_QUESTION_TOKENS])
    encoded = tokenizer(
        [question] * len(passages), passages, truncation="only_second", max_length=max_length, stride=stride,
        return_overflowing_tokens=True, return_offsets_mapping=True, padding="longest", return_tensors="np",
    )
    offsets = np.asarray(encoded["offset_mapping"], dtype=np.int64).copy()
    in_passage = np.array([[s == 1 for s in encoded.sequence_ids(w)] for w in range(len(offsets))], dtype=bool)
    offsets[~in_passage] = -1
    valid = in_passage.copy()
    valid[:, 0] = True
    return Windows(
        input_ids=encoded["input_ids"].astype(np.int64),
        attention_mask=encoded["attention_mask"].astype(np.int64),
        token_type_ids=encoded["token_type_ids"].astype(np.int64),
        passage=np.asarray(encoded["overflow_to_sample_mapping"], dtype=np.int64),
        offsets=offsets,
        valid=valid,
    )


def group_log_softmax(logits: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Log-probabilities of positions, normalised over all valid positions of all windows together."""
    masked = np.where(valid, logits, -np.inf)
    top = masked.max()
    return masked - (top + np.log(np.exp(masked - top).sum()))


@dataclass(frozen=True)
class PassageReading:
    """The reader's best span in one passage: character offsets into the passage text, and the
    probability (shared over all passages of the question) that this span is the answer."""

    passage: int
    start: int
    end: int
    probability: float


@dataclass(frozen=True)
class Reading:
    """What the reader found for one question: the best span of each passage, best first, and the
    probability of "no answer": the [CLS] start and end probabilities averaged over windows, so that
    the odds of a span against it do not shift with the number of passages read (training read two)."""

    spans: list[PassageReading]
    no_answer: float

    @property
    def best(self) -> PassageReading | None:
        return self.spans[0] if self.spans else None


def read_spans(windows: Windows, start_logits: np.ndarray, end_logits: np.ndarray,
               max_answer_tokens: int = MAX_ANSWER_TOKENS) -> Reading:
    """Decode the best span of each passage and the no-answer probability from the model's logits."""
    start = group_log_softmax(start_logits, windows.valid)
    end = group_log_softmax(end_logits, windows.valid)
    mean = -np.log(len(windows))
    no_answer = float(np.exp(np.logaddexp.reduce(start[:, 0]) + mean + np.logaddexp.reduce(end[:, 0]) + mean))
    length = np.arange(start.shape[1])
    allowed = (length[None, :] >= length[:, None]) & (length[None, :] - length[:, None] < max_answer_tokens)
    best: dict[int, PassageReading] = {}
    for w in range(len(windows)):
        inside = windows.offsets[w, :, 0] >= 0
        if not inside.any():
            continue
        scores = start[w][:, None] + end[w][None, :]
        scores = np.where(allowed & inside[:, None] & inside[None, :], scores, -np.inf)
        i, j = np.unravel_index(int(np.argmax(scores)), scores.shape)
        passage = int(windows.passage[w])
        reading = PassageReading(passage, int(windows.offsets[w, i, 0]), int(windows.offsets[w, j, 1]), float(np.exp(scores[i, j])))
        if passage not in best or reading.probability > best[passage].probability:
            best[passage] = reading
    return Reading(sorted(best.values(), key=lambda r: -r.probability), no_answer)


@dataclass(frozen=True)
class ReaderCalibration:
    """Reader output → probability that the answer is right: a logistic curve over the best span's
    log-odds against "no answer", fit on held-out questions (models/train_reader.py), and the
    confidence under which the answer builder abstains."""

    slope: float = 1.0
    intercept: float = 0.0
    threshold: float = 0.5

    def confidence(self, reading: Reading) -> float:
        if reading.best is None:
            return 0.0
        return float(1.0 / (1.0 + np.exp(-(self.slope * evidence(reading) + self.intercept))))


def evidence(reading: Reading) -> float:
    """Log-odds of the best span against "no answer": the one number calibration maps to a confidence."""
    eps = 1e-9
    return float(np.log(reading.best.probability + eps) - np.log(reading.no_answer + eps))


class Reader:
    """Reads the passages of one question in one batch. Loads lazily; safe to share between threads
    (the fast tokenizer is not, so tokenising is serialised; onnxruntime runs concurrently).
    `threads`: onnxruntime's threads per question (measured at k = 5 on 2 cores: 2 → 35 ms, 1 → 57 ms)."""

    def __init__(self, path: str | os.PathLike | None = None, max_length: int = MAX_LENGTH, stride: int = STRIDE,
                 threads: int = 2, calibration: ReaderCalibration | None = None):
        self.path = Path(path or default_reader())
        self.max_length = max_length
        self.stride = stride
        self.threads = threads
        self._calibration = calibration  # None: the folder's calibration.json
        self._loaded = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load the model now (it loads on first use otherwise), so that a bad folder is reported at start-up."""
        self._load()

    def _load(self):
        if self._loaded is None:
            with self._lock:
                if self._loaded is None:
                    self._loaded = _load_reader(self.path, self.threads, self._calibration)
        return self._loaded

    @property
    def calibration(self) -> ReaderCalibration:
        return self._load()[2]

    def run(self, question: str, passages: list[str]) -> Reading:
        tokenizer, session, _ = self._load()
        if not passages:
            return Reading([], 1.0)
        with self._lock:
            windows = encode(tokenizer, question, passages, self.max_length, self.stride)
        start_logits, end_logits = session.run(None, {
            "input_ids": windows.input_ids, "attention_mask": windows.attention_mask, "token_type_ids": windows.token_type_ids,
        })
        return read_spans(windows, start_logits, end_logits)


def _load_reader(path: Path, threads: int, calibration: ReaderCalibration | None):
    """(tokenizer, onnxruntime session, calibration) from a reader folder, or ModelNotFoundError."""
    model = path / "model.onnx"
    if not model.is_file():
        raise ModelNotFoundError(
            f"no reader model at {path} (expected {model.name} there): point VERBATIM_READER or --reader at a "
            f"folder made by models/train_reader.py, or use the one shipped in {DEFAULT_READER}"
        )
    try:
        import onnxruntime
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # leave the cores to torch between questions
        session = onnxruntime.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        calibration = calibration or ReaderCalibration(**json.loads((path / "calibration.json").read_text()))
    except Exception as exc:  # a damaged file fails in the tokenizer's, onnxruntime's or json's own way
        raise ModelNotFoundError(f"the reader model at {path} cannot be loaded ({exc}): retrain it or restore the folder") from exc
    return tokenizer, session, calibration
