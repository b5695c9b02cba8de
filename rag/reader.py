"""Question + passages → answer spans, read by a MiniLM reader trained here (rag/models/reader, onnxruntime).

The reader gives every token of a passage a start and an end score. Scores are normalised over all
windows of all passages of one question at once (shared normalisation, Clark & Gardner 2018), so a
span's probability can be compared across passages and the reader reranks them; the [CLS] position of
each window stands for "no answer here", so the probability that the passages hold no answer comes
out of the same softmax. Training (rag.training) reads the same windows (`encode` below) and
optimises the same normalisation, over groups of two windows.
"""

from __future__ import annotations

import functools
import json
import os
import platform
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import settings
from .batching import Batcher
from .confidence import Confidence
from .errors import ModelNotFoundError, RagError
from .exports import exported, optimise
from .files import write_atomically

DEFAULT_READER = Path(__file__).resolve().parent / "models" / "reader"
MAX_LENGTH = 192  # question + passage window, in word pieces; a chunk of 128 cl100k tokens fits whole
STRIDE = 64  # word pieces shared by consecutive windows of a longer passage
MAX_QUESTION_TOKENS = 48
MAX_ANSWER_TOKENS = 30


def default_reader() -> str:
    return settings.get("READER") or str(DEFAULT_READER)


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


def encode(
    tokenizer, question: str, passages: list[str], max_length: int = MAX_LENGTH, stride: int = STRIDE
) -> Windows:
    """Tokenise the question with each passage; passages longer than one window overflow into more."""
    question_ids = tokenizer(question, add_special_tokens=False)["input_ids"]
    if len(question_ids) > MAX_QUESTION_TOKENS:
        question = tokenizer.decode(question_ids[:MAX_QUESTION_TOKENS])
    encoded = tokenizer(
        [question] * len(passages),
        passages,
        truncation="only_second",
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding="longest",
        return_tensors="np",
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


def read_spans(
    windows: Windows,
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    max_answer_tokens: int = MAX_ANSWER_TOKENS,
    excluded: dict[int, list[tuple[int, int]]] | None = None,
) -> Reading:
    """Decode the best span of each passage and the no-answer probability from the model's logits;
    `excluded`: per passage, character ranges no span may overlap."""
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
        valid = allowed & inside[:, None] & inside[None, :]
        for first, last in (excluded or {}).get(int(windows.passage[w]), ()):
            valid &= ~((windows.offsets[w, :, 0] < last)[:, None] & (windows.offsets[w, :, 1] > first)[None, :])
        if not valid.any():
            continue
        scores = np.where(valid, start[w][:, None] + end[w][None, :], -np.inf)
        i, j = np.unravel_index(int(np.argmax(scores)), scores.shape)
        passage = int(windows.passage[w])
        reading = PassageReading(
            passage, int(windows.offsets[w, i, 0]), int(windows.offsets[w, j, 1]), float(np.exp(scores[i, j]))
        )
        if passage not in best or reading.probability > best[passage].probability:
            best[passage] = reading
    return Reading(sorted(best.values(), key=lambda r: -r.probability), no_answer)


class Reader:
    """Reads the passages of one question in one batch. Loads lazily; safe to share between threads
    (the fast tokenizer is not, so tokenising is serialised; onnxruntime runs concurrently).

    The folder holds the trained weights (fp16 safetensors, trained by rag.training); they are exported to
    ONNX once per machine (rag/exports.py), in fp32 and in int8, and the one this CPU runs faster is used
    (`precision` or $VERBATIM_READER_PRECISION: "fp32" or "int8" to choose).
    `threads`: onnxruntime's threads per question; `batch` (or $VERBATIM_READER_BATCH=1): questions read at the same
    moment by several threads go through the model as one batch (rag/batching.py), in fp32, since int8's activation
    scales are set per batch and would make an answer depend on the questions read with it."""

    def __init__(
        self,
        path: str | os.PathLike | None = None,
        max_length: int = MAX_LENGTH,
        stride: int = STRIDE,
        threads: int = 2,
        confidence: Confidence | None = None,
        precision: str | None = None,
        batch: bool | None = None,
    ):
        self.path = Path(path or default_reader())
        self.batch = settings.get("READER_BATCH") == "1" if batch is None else batch
        self.max_length = max_length
        self.stride = stride
        self.threads = threads
        self.precision = precision or settings.get("READER_PRECISION")
        if self.batch and self.precision == "int8":
            raise RagError(
                "the reader cannot batch questions in int8: its activation scales are set per batch, so an answer "
                "would depend on the questions read with it; batch in fp32 or read one question at a time"
            )
        if self.batch:
            self.precision = "fp32"
        if self.precision not in (None, *PRECISIONS):
            raise ModelNotFoundError(
                f"unknown reader precision {self.precision!r} (VERBATIM_READER_PRECISION?): use "
                f"{' or '.join(PRECISIONS)}, or leave it unset to run the faster one here"
            )
        self._confidence = confidence  # None: the folder's calibration.json
        self._loaded = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load the model now (it loads on first use otherwise), so that a bad folder is reported at start-up."""
        self._load()

    def _load(self):
        if self._loaded is None:
            with self._lock:
                if self._loaded is None:
                    loaded = _load_reader(self.path, self.threads, self._confidence, self.precision)
                    self._batcher = Batcher(lambda inputs: loaded[1].run(None, inputs)) if self.batch else None
                    self._loaded = loaded
        return self._loaded

    @property
    def confidence(self) -> Confidence:
        """The model that turns what the reader found into the probability that a quote holds the answer."""
        return self._load()[2]

    @property
    def running(self) -> str:
        """The precision the model runs in here: "fp32" or "int8"."""
        return self._load()[3]

    def run(
        self, question: str, passages: list[str], excluded: dict[int, list[tuple[int, int]]] | None = None
    ) -> Reading:
        """The best span of every passage, overlapping none of its `excluded` character ranges."""
        tokenizer, session, _, _ = self._load()
        if not passages:
            return Reading([], 1.0)
        with self._lock:
            windows = encode(tokenizer, question, passages, self.max_length, self.stride)
        inputs = {
            "input_ids": windows.input_ids,
            "attention_mask": windows.attention_mask,
            "token_type_ids": windows.token_type_ids,
        }
        start, end = self._batcher.run(inputs) if self.batch else session.run(None, inputs)
        return read_spans(windows, start, end, excluded=excluded)


PRECISIONS = ("fp32", "int8")
EXPORT_VERSION = 1
INT8_MIN_SPEED_UP = (
    1.2  # int8 costs some accuracy (F1 ~92 against fp32): it is chosen only where it runs this much faster
)


def _load_reader(path: Path, threads: int, confidence: Confidence | None, precision: str | None):
    """(tokenizer, onnxruntime session, confidence model, precision) from a reader folder, or ModelNotFoundError."""
    weights = path / "model.safetensors"
    if not weights.is_file():
        raise ModelNotFoundError(
            f"no reader model at {path} (expected {weights.name} there): point VERBATIM_READER or --reader at a "
            f"folder made by `python -m rag.training`, or use the one shipped in {DEFAULT_READER}"
        )
    try:
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        confidence = confidence or Confidence.load(path / "calibration.json")
        folder = exported(
            "reader",
            path,
            EXPORT_VERSION,
            functools.partial(_export, path),
            ready="model-int8.onnx",
            inputs=("model.safetensors", "config.json"),
        )
        precision = precision or _faster_precision(folder)
        session = _session(folder / f"model-{precision}.onnx", threads)
    except Exception as exc:  # a damaged file fails in the tokenizer's, torch's, onnxruntime's or json's own way
        raise ModelNotFoundError(
            f"the reader model at {path} cannot be loaded ({exc}): retrain it or restore the folder"
        ) from exc
    return tokenizer, session, confidence, precision


def _session(model: Path, threads: int):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # no spinning between questions: the cores go to the embedding model and the other sessions meanwhile
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])


def _export(path: Path, folder: Path) -> None:
    """The trained weights → ONNX: fp32 (optimised by onnxruntime) and dynamic int8 with per-channel weights."""
    import warnings

    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModelForQuestionAnswering

    model = AutoModelForQuestionAnswering.from_pretrained(
        path, local_files_only=True, dtype=torch.float32, attn_implementation="eager"
    ).eval()

    class Logits(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            out = self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.start_logits, out.end_logits

    names, axes = ["input_ids", "attention_mask", "token_type_ids"], {0: "windows", 1: "tokens"}
    example = tuple(torch.ones((2, 16), dtype=torch.long) for _ in names)
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's notes on tracing are about code paths this model does not take
        torch.onnx.export(
            Logits(),
            example,
            folder / "raw.onnx",
            input_names=names,
            output_names=["start_logits", "end_logits"],
            dynamic_axes={n: axes for n in [*names, "start_logits", "end_logits"]},
            opset_version=17,
            dynamo=False,
        )
    quantize_dynamic(folder / "raw.onnx", folder / "model-int8.tmp.onnx", per_channel=True, weight_type=QuantType.QInt8)
    optimise(folder / "raw.onnx", folder / "model-fp32.onnx")
    os.replace(folder / "model-int8.tmp.onnx", folder / "model-int8.onnx")  # last: its presence marks a whole export


def _faster_precision(folder: Path) -> str:
    """fp32 or int8, whichever this CPU reads five windows of MAX_LENGTH with faster (int8 by at least
    INT8_MIN_SPEED_UP); timed once per CPU and kept beside the export."""
    import hashlib
    import time

    cpu = hashlib.sha1((platform.processor() + cpu_flags()).encode()).hexdigest()[:16]
    record = folder / f"precision-{cpu}.json"
    if record.is_file():
        return json.loads(record.read_text())["precision"]
    feed = {n: np.ones((5, MAX_LENGTH), dtype=np.int64) for n in ("input_ids", "attention_mask", "token_type_ids")}
    ms = {}
    for precision in PRECISIONS:
        session = _session(folder / f"model-{precision}.onnx", 2)
        session.run(None, feed)
        times = []
        for _ in range(7):
            started = time.perf_counter()
            session.run(None, feed)
            times.append(time.perf_counter() - started)
        ms[precision] = round(1000 * float(np.median(times)), 2)
    chosen = "int8" if ms["fp32"] >= INT8_MIN_SPEED_UP * ms["int8"] else "fp32"
    try:
        write_atomically(record, json.dumps({"precision": chosen, "ms": ms, "vnni": "vnni" in cpu_flags()}))
    except OSError:  # a cache shared read-only: time it again next time
        pass
    return chosen


def cpu_flags() -> str:
    """The CPU's model and flags line (Linux), printed by every benchmark: int8 pays only with VNNI."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor()
    model = next(
        (line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), platform.processor()
    )
    return f"{model}; {next((line for line in lines if line.startswith('flags')), 'flags: unknown')}"
