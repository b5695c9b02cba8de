import logging

import numpy as np
import pytest

from rag.chunking import SentenceChunker
from rag.documents import DocumentLoader
from rag.embedding import Embedder
from rag.errors import ModelNotFoundError
from tests.conftest import ARTICLES

pytestmark = pytest.mark.model


def test_vectors_are_normalised_and_meaningful(embedder):
    vectors = embedder.run(
        [
            "Kremlin spokesperson Dmitry Peskov spoke to reporters.",
            "Who is the Kremlin spokesperson?",
            "The recipe needs two cups of flour.",
        ]
    )
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[2] @ vectors[1] + 0.3


def test_every_shipped_chunk_fits_the_model_window(embedder, articles_index):
    """The chunker's tiktoken budget must keep chunks inside the model's word-piece window."""
    from rag.store import IndexStore

    # Chunked as the indexer chunks them: within each document's blocks.
    texts = [
        c.text for d in DocumentLoader().run(ARTICLES).documents for c in SentenceChunker().run(d.text, d.blocks).chunks
    ]
    store = IndexStore.open(articles_index)
    assert texts == [c.text for c in store.chunks(list(range(store.n_chunks)))]  # every chunk the index holds
    counts = embedder.count_tokens(texts)
    assert max(counts) <= embedder.max_tokens == 256


def test_overlong_text_is_reported_not_silently_truncated(embedder, caplog):
    caplog.set_level(logging.WARNING)
    embedder.run(["short text", "peace talks " * 400])
    assert "1 of 2 texts exceed the model window of 256 tokens" in caplog.text


def test_unknown_model_names_are_refused_without_downloading():
    with pytest.raises(ModelNotFoundError, match="not available offline"):
        Embedder("someone/not-packaged-model").run(["x"])


def test_counting_tokens_first_loads_the_model_without_deadlock():
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(Embedder().count_tokens, ["hello world"]).result(timeout=120) == [4]


def test_the_onnx_backend_gives_the_vectors_of_sentence_transformers_and_is_exported_once(tmp_path, monkeypatch):
    monkeypatch.setenv("VERBATIM_CACHE", str(tmp_path))
    texts = [c.text for d in DocumentLoader().run(ARTICLES).documents for c in SentenceChunker().run(d.text).chunks][
        :20
    ]
    texts += ["Who is the Kremlin spokesperson?", "peace talks " * 400]

    exported = Embedder(backend="onnx")
    vectors = exported.run(texts)

    reference = Embedder(backend="torch").run(texts)
    assert vectors.shape == reference.shape and (vectors * reference).sum(axis=1).min() > 0.9999
    assert exported.count_tokens(texts) == Embedder(backend="torch").count_tokens(texts)
    [export] = (tmp_path / "embedding").iterdir()
    written = (export / "model.onnx").stat().st_mtime_ns
    assert np.array_equal(Embedder(backend="onnx").run(texts), vectors)
    assert [p.name for p in (tmp_path / "embedding").iterdir()] == [export.name]
    assert (export / "model.onnx").stat().st_mtime_ns == written
