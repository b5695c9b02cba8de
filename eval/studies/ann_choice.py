"""Which approximate index past ANN_MIN_CHUNKS: FAISS HNSW or IVF, side by side on the same vectors.

    python -m eval.studies.ann_choice --index-dir index/bench-scale/real/index --size 200000

Vectors: the real chunk vectors of an index (run `python -m eval.bench.bench_scale` first for a 10k-chunk one),
grown to --size with the same perturbation as the scale benchmark; queries: the embedded qa-train
questions the scale benchmark asks. For each setting: build seconds, ms per single query with one
thread, and recall@10 against exact search.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

from eval.bench.bench_scale import Embedder, perturbed, real_corpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--size", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    real = np.concatenate([np.load(p) for p in sorted(args.index_dir.glob("segments/*/vectors.npy"))])
    vectors = np.concatenate([real] + [perturbed(real, real, rng) for _ in range(args.size // len(real))])[: args.size]
    with tempfile.TemporaryDirectory() as tmp:
        queries = Embedder().run(real_corpus(Path(tmp), 1000)[: args.queries])
    exact = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
    faiss.omp_set_num_threads(1)
    started = time.perf_counter()
    for q in queries[:50]:
        np.argpartition(-(vectors @ q), 10)
    print(f"{len(vectors)} vectors; exact search {(time.perf_counter() - started) * 20:.2f} ms/query")
    print(f"{'index':<34}{'build s':>9}{'ms/query':>10}{'recall@10':>11}")
    for name, index, setting, values in candidates(vectors.shape[1], len(vectors)):
        faiss.omp_set_num_threads(2)
        started = time.perf_counter()
        if not index.is_trained:
            index.train(vectors[rng.choice(len(vectors), min(len(vectors), 100_000), replace=False)])
        index.add(vectors)
        build_s = time.perf_counter() - started
        faiss.omp_set_num_threads(1)
        for value in values:
            setting(index, value)
            started = time.perf_counter()
            found = np.stack([index.search(q.reshape(1, -1), 10)[1][0] for q in queries])
            ms = (time.perf_counter() - started) * 1000 / len(queries)
            recall = np.mean([len(set(f) & set(e)) / 10 for f, e in zip(found, exact, strict=True)])
            print(f"{name + f' {value}':<34}{build_s:>9.1f}{ms:>10.2f}{recall:>11.3f}")


def candidates(d: int, n: int):
    nlist = int(4 * np.sqrt(n))
    ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(d), d, nlist, faiss.METRIC_INNER_PRODUCT)
    yield f"IVF{nlist},Flat nprobe", ivf, lambda i, v: setattr(i, "nprobe", v), (16, 32, 64, 128, 256)
    for m, ef_construction in ((32, 80), (32, 200)):
        hnsw = faiss.IndexHNSWFlat(d, m, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = ef_construction
        yield (
            f"HNSW M={m} efC={ef_construction}, efSearch",
            hnsw,
            lambda i, v: setattr(i.hnsw, "efSearch", v),
            (64, 256, 512),
        )


if __name__ == "__main__":
    main()
