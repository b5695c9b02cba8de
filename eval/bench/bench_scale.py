"""Scale benchmark: how Verbatim behaves from 10^4 to 10^6 chunks on one machine.

    python -m eval.bench.bench_scale --sizes 10000,1000000 --json out.json

1. Build rate on real passages: the contexts of ../shared/qa-train written as articles (about
   --real-chunks chunks), indexed from scratch with `Indexer.run`, next to the raw encode of the
   same chunk texts by the embedder alone (build / raw encode: what indexing adds to embedding).
2. For each size: an index of that many chunks, then, in a fresh process, the time to open it,
   the memory (RSS) after 200 questions, `ask()` p50/p95 (question embedding included, hybrid
   retrieval, k=5), recall@10 of the dense search against exact search over the same vectors,
   dense search time with 1 and 2 threads, and `add_one_s`: adding one new article (its
   chunking and embedding included) through `Indexer.update_files`, as a web upload does.
3. Filtered questions: one document in ten is dated 2025, the rest 2024; `filtered_p50_ms` is `ask()` with
   filters={"after": "2025-01-01"} (10 % of the chunks pass), asked in the same run as the unfiltered ones.

Sizes up to the real chunk count are real data. Past it the index is synthetic: copies of the
real documents under new names (same text, so BM25 and the reader see real prose) whose chunk
vectors are real ones perturbed and recombined, v' = normalise(v_i + 0.35·v_j + 0.05·noise), so
they keep the cluster structure of real embeddings (uniform random vectors would not: ANN
recall on them says nothing). Each size's entry says how much of it is synthetic.

The JSON maps each size to {"open_s", "rss_mb", "p50_ms", "p95_ms", "recall_at_10", "add_one_s", ...}.
Scratch indexes live under --work (default index/bench-scale, git-ignored) and are rebuilt each run.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import json
import random
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from eval import ROOT, SHARED, child_env
from eval.bench.bench import latency, machine_facts
from rag import segments
from rag.chunking import Chunk, ChunkedText, Sentence
from rag.documents import Document
from rag.embedding import Embedder
from rag.filters import Filters
from rag.indexing import Indexer
from rag.metadata import Metadata
from rag.store import FORMAT_VERSION, Commit, IndexStore, IndexWriter

QA_TRAIN = SHARED / "qa-train"
CHARS_PER_CHUNK = 560  # what the default chunker averages on these contexts
FILTER = {"after": "2025-01-01"}
NEW_ARTICLE = (
    "The lighthouse keeper of Port Ellen, Morag Campbell, retired on Friday after forty-one years. "
    "She said the lamp had failed only twice in that time, both times in storms in January.\n"
)


def real_corpus(target: Path, min_chunks: int, seed: int = 0) -> list[str]:
    """Write qa-train contexts as articles (title, then paragraphs) until about `min_chunks` chunks; return
    their answerable questions, shuffled."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    chars, questions = 0, []
    for path in sorted(QA_TRAIN.glob("*.json.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as file:
            articles = json.load(file)["data"]
        for number, article in enumerate(articles):
            paragraphs = [p["context"].replace("\n", " ") for p in article["paragraphs"]]
            (target / f"{path.name.split('.')[0]}-{number:04d}.txt").write_text(
                article["title"] + "\n\n" + "\n\n".join(paragraphs) + "\n"
            )
            questions += [q["question"] for p in article["paragraphs"] for q in p["qas"] if not q.get("is_impossible")]
            chars += sum(map(len, paragraphs))
            if chars >= min_chunks * CHARS_PER_CHUNK:
                random.Random(seed).shuffle(questions)
                return questions
    raise SystemExit(f"{QA_TRAIN} holds fewer than {min_chunks} chunks of text")


def build_rate(corpus: Path, index_dir: Path, embedder: Embedder) -> dict:
    """Index the real corpus from scratch, then encode the same chunk texts with the embedder alone."""
    embedder.run(["warm up"])
    started = time.perf_counter()
    report = Indexer(embedder).run(corpus, index_dir, rebuild=True, show_progress=True)
    build_s = time.perf_counter() - started
    store = IndexStore.open(index_dir)
    texts = [c.text for c in store.chunks(list(range(store.n_chunks)))]
    started = time.perf_counter()
    embedder.run(texts)
    encode_s = time.perf_counter() - started
    return {
        "real_chunks": len(texts),
        "real_documents": len(report.added),
        "build_s": round(build_s, 1),
        "build_texts_per_s": round(len(texts) / build_s, 1),
        "encode_texts_per_s": round(len(texts) / encode_s, 1),
        "build_over_encode": round(build_s / encode_s, 3),
    }


def real_rows(index_dir: Path) -> list[tuple[Document, ChunkedText, np.ndarray]]:
    """Every document of the real index with its sentences, chunks and chunk vectors, read back from disk."""
    store = IndexStore.open(index_dir)
    [segment] = store.segments
    rows = []
    for info in store.documents():
        document = store.document(info.id)
        chunk_rows = segment._query(
            "SELECT id, position, start, end, first_sentence, last_sentence FROM chunks "
            "WHERE doc_id = ? ORDER BY position",
            (info.id,),
        )
        sentences = [Sentence(s.start, s.end, s.text) for s in segment.sentences(info.id, 0, 1 << 30)]
        chunks = [Chunk(p, a, b, document.text[a:b], f, last, 0) for _, p, a, b, f, last in chunk_rows]
        vectors = np.asarray(segment.vectors[[r[0] for r in chunk_rows]])
        rows.append(
            (
                Document(info.id, document.text, document.sha256, Metadata(title=document.meta.title)),
                ChunkedText(sentences, chunks),
                vectors,
            )
        )
    return rows


def perturbed(vectors: np.ndarray, pool: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Real vectors moved towards random other real ones, plus a little noise: new points with real structure."""
    mixed = vectors + 0.35 * pool[rng.integers(len(pool), size=len(vectors))]
    mixed += 0.05 * rng.standard_normal(vectors.shape).astype(np.float32) / np.sqrt(vectors.shape[1])
    return (mixed / np.linalg.norm(mixed, axis=1, keepdims=True)).astype(np.float32)


def synthetic_index(index_dir: Path, size: int, rows: list, commit: Commit, seed: int = 0) -> dict:
    """An index of about `size` chunks: the real documents, then perturbed copies of them."""
    rng = np.random.default_rng(seed)
    pool = np.concatenate([vectors for _, _, vectors in rows])
    if index_dir.exists():
        shutil.rmtree(index_dir)
    started = time.perf_counter()
    chunks = synthetic = 0
    with IndexWriter(index_dir, commit, start_empty=True) as writer:
        copy = 0
        while chunks < size:
            for document, chunked, vectors in rows:
                if chunks >= size:
                    break
                if copy:
                    vectors = perturbed(vectors, pool, rng)
                    document = replace(
                        document, id=f"copy-{copy:03d}/{document.id}", sha256=f"{copy}:{document.sha256}"
                    )
                    synthetic += len(vectors)
                writer.add(
                    replace(document, published="2025-06-01" if rng.random() < 0.1 else "2024-06-01"), chunked, vectors
                )
                chunks += len(vectors)
            copy += 1
        writer.commit()
    return {
        "chunks": chunks,
        "synthetic_share": round(synthetic / chunks, 3),
        "write_s": round(time.perf_counter() - started, 1),
    }


def measure(index_dir: Path, questions: list[str], article: Path) -> dict:
    """Run in a fresh process: open, ask, memory, recall, search threads, add one article."""
    import faiss
    from threadpoolctl import threadpool_limits

    import rag
    from rag.reader import Reader

    embedder, reader = Embedder(), Reader()
    embedder.run(["warm up"])
    reader.load()
    started = time.perf_counter()
    qa = rag.QA(IndexStore.open(index_dir), embedder, reader=reader)
    open_s = time.perf_counter() - started
    asked = latency(qa.ask, questions, "hybrid", qa.clear_cache)
    retrieved = latency(qa.retrieve, questions, "hybrid", qa.clear_cache)  # without the reader
    filtered = latency(functools.partial(qa.ask, filters=FILTER), questions, "hybrid", qa.clear_cache)
    filtered_retrieve = latency(functools.partial(qa.retrieve, filters=FILTER), questions, "hybrid", qa.clear_cache)
    admitted = sum(int(s.admitted(Filters.of(FILTER)).sum()) for s in qa.store.segments) / qa.store.n_chunks
    rss_mb = _rss_mb()
    vectors = embedder.run(questions)
    found = [[h.chunk_id for h in qa.store.search(v, 10)] for v in vectors]
    exact = _exact_top(qa.store, vectors, 10)
    recall = statistics.mean(len(set(f) & set(e)) / 10 for f, e in zip(found, exact, strict=True))
    threads, sweep = {}, {}
    big = max(qa.store.segments, key=lambda s: s.n_chunks)
    if big.ann is not None:
        big.ann.nprobe = segments.IVF_PROBES
    for n in (1, 2):
        with threadpool_limits(limits=n, user_api="blas"):
            faiss.omp_set_num_threads(n)
            started = time.perf_counter()
            for v in vectors:
                big.ann.search(v.reshape(1, -1), 10) if big.ann is not None else np.argpartition(-(big.vectors @ v), 10)
            threads[f"search_ms_{n}_thread{'s' if n > 1 else ''}"] = round(
                (time.perf_counter() - started) * 1000 / len(vectors), 2
            )
    if (
        big.ann is not None
    ):  # recall and time for other numbers of lists probed (one segment here: its top 10 is the global one)
        faiss.omp_set_num_threads(1)
        offset = qa.store.commit.segments[qa.store.segments.index(big)].offset
        for probes in (8, 16, 32, 64):
            big.ann.nprobe = probes
            started = time.perf_counter()
            rows = [big.ann.search(v.reshape(1, -1), 10)[1][0] for v in vectors]
            ms = (time.perf_counter() - started) * 1000 / len(vectors)
            hit = statistics.mean(
                len({offset + int(r) for r in found_rows} & set(e)) / 10
                for found_rows, e in zip(rows, exact, strict=True)
            )
            sweep[f"nprobe{probes}"] = {"recall_at_10": round(hit, 4), "ms": round(ms, 3)}
    with threadpool_limits(limits=1, user_api="blas"):
        started = time.perf_counter()
        for v in vectors[:50]:
            np.argpartition(-(big.vectors @ v), 10)
        exact_ms = (time.perf_counter() - started) * 1000 / 50
    started = time.perf_counter()
    Indexer(embedder).update_files(index_dir, [(f"new/{article.name}", article)])
    add_one_s = time.perf_counter() - started
    return {
        "open_s": round(open_s, 3),
        "rss_mb": round(rss_mb),
        "p50_ms": round(asked["p50_ms"], 1),
        "p95_ms": round(asked["p95_ms"], 1),
        "recall_at_10": round(recall, 4),
        "add_one_s": round(add_one_s, 3),
        "retrieve_p50_ms": round(retrieved["p50_ms"], 1),
        "retrieve_p95_ms": round(retrieved["p95_ms"], 1),
        "filtered_p50_ms": round(filtered["p50_ms"], 1),
        "filtered_p95_ms": round(filtered["p95_ms"], 1),
        "filtered_retrieve_p50_ms": round(filtered_retrieve["p50_ms"], 1),
        "filtered_share": round(admitted, 4),
        "filtered_ratio": round(filtered["p50_ms"] / asked["p50_ms"], 3),
        "segments": len(qa.store.segments),
        "ivf": big.ann is not None,
        "exact_search_ms": round(exact_ms, 2),
        **threads,
        "ivf_probes": segments.IVF_PROBES if big.ann is not None else None,
        "ivf_sweep": sweep,
    }


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _exact_top(store: IndexStore, queries: np.ndarray, k: int) -> list[list[int]]:
    """Exact top-k chunk ids by brute force over every live vector, a block at a time."""
    best_scores = np.full((len(queries), 0), -np.inf, dtype=np.float32)
    best_ids = np.zeros((len(queries), 0), dtype=np.int64)
    for live, segment in zip(store.commit.segments, store.segments, strict=True):
        for first in range(0, segment.n_chunks, 200_000):
            scores = queries @ np.asarray(segment.vectors[first : first + 200_000]).T
            scores[:, ~segment._live[first : first + 200_000]] = -np.inf
            ids = live.offset + first + np.arange(scores.shape[1])
            best_scores = np.concatenate([best_scores, scores], axis=1)
            best_ids = np.concatenate([best_ids, np.broadcast_to(ids, scores.shape)], axis=1)
            keep = np.argsort(-best_scores, axis=1)[:, :k]
            best_scores, best_ids = np.take_along_axis(best_scores, keep, 1), np.take_along_axis(best_ids, keep, 1)
    return best_ids.tolist()


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="10000,100000,1000000", help="comma-separated chunk counts (default: %(default)s)"
    )
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    parser.add_argument("--real-chunks", type=int, default=10_000, help="real passages to embed (default: %(default)s)")
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--work", type=Path, default=ROOT / "index" / "bench-scale")
    parser.add_argument("--measure", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:  # the child process of one size
        request = json.loads(sys.stdin.read())
        print(json.dumps(measure(args.measure, request["questions"], Path(request["article"]))))
        return {}

    print("machine: " + ", ".join(f"{k}={v}" for k, v in machine_facts().items()))
    args.work.mkdir(parents=True, exist_ok=True)
    questions = real_corpus(args.work / "real" / "articles", args.real_chunks)[: args.questions]
    embedder = Embedder()
    build = build_rate(args.work / "real" / "articles", args.work / "real" / "index", embedder)
    print("build: " + ", ".join(f"{k}={v}" for k, v in build.items()), flush=True)
    rows = real_rows(args.work / "real" / "index")
    article = args.work / "new-article.txt"
    article.write_text(NEW_ARTICLE)
    commit = Commit(FORMAT_VERSION, embedder.model_name, embedder.dimension, Indexer(embedder).chunker.settings)
    results = {"machine": machine_facts()}
    for size in (int(s) for s in args.sizes.split(",")):
        index_dir = args.work / f"size-{size}"
        made = synthetic_index(index_dir, size, rows, commit)
        child = subprocess.run(
            [sys.executable, "-m", "eval.bench.bench_scale", "--measure", str(index_dir)],
            check=True,
            capture_output=True,
            text=True,
            env=child_env(),
            input=json.dumps({"questions": questions, "article": str(article)}),
        )
        results[str(size)] = {**json.loads(child.stdout.strip().splitlines()[-1]), **made, **build}
        print(f"{size}: " + ", ".join(f"{k}={v}" for k, v in results[str(size)].items() if k not in build), flush=True)
        shutil.rmtree(index_dir)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1))
        print(f"wrote {args.json}")
    return results


if __name__ == "__main__":
    main()
