"""Speed benchmark for Verbatim: index build, raw model throughput and ask() latency.

What it measures, on one machine, in one run:

1. Index build: `Indexer.run(..., rebuild=True)` into a fresh temporary folder, with the model
   already loaded and warmed up (model load time is reported separately).
2. Raw model throughput on exactly the texts the indexer embeds (every chunk of every document),
   by `Embedder.run` alone (the embedding model exported to ONNX, by default). The ratio build / raw encode shows what indexing
   (loading, chunking, token checks, writing) adds on top of pure encoding. Build and raw encode
   are alternated `--repeat` times and medians are reported, to damp noise.
3. An incremental no-change re-run of the indexer (it should embed nothing).
4. The model-window check: chunk lengths in the model's own tokens vs its window.
5. `qa.ask()` latency (p50/p95/mean/max) for each retriever: hybrid, dense and bm25, next to
   `qa.retrieve()` alone (the difference is the reader's share).
6. With `--conversations FILE` (e.g. eval/data/conversations.jsonl, over the shipped articles): every turn of every
   conversation asked with its history (the answers the replay gave before it), alone, and as its standalone version,
   in rotation, `--repeat` times; the median of each turn, then p50 over all turns and over the follow-ups: what
   understanding a follow-up adds to the same text asked alone, and to the question it means asked whole.
7. With `--baseline REV`: the benchmark of an earlier commit (e.g. the one before the reader), run
   from a git worktree in the same Python environment before and after this one, and the mean of its two ask()
   figures printed beside these (so that a VM's drifting speed weighs on both alike). It needs that commit's dependencies installed.

Why a script: speed depends on the machine, so it is measured here and reported, never asserted
by timed tests.

    python -m eval.bench.bench [--corpus data/articles] [--questions 200] [--repeat 3] [--conversations FILE] [--baseline REV] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import rag
from eval import ARTICLES, GOLD, ROOT
from rag.chunking import SentenceChunker
from rag.documents import DocumentLoader
from rag.embedding import Embedder
from rag.indexing import Indexer

RETRIEVERS = ("hybrid", "dense", "bm25")


def machine_facts() -> dict:
    import torch

    from rag.reader import cpu_flags

    return {
        "cpu": cpu_flags(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "cuda": torch.cuda.is_available(),
    }


def chunk_texts(corpus: Path) -> list[str]:
    """The texts the indexer embeds: every chunk of every document."""
    chunker = SentenceChunker()
    return [
        c.text
        for document in DocumentLoader().run(corpus).documents
        for c in chunker.run(document.text, document.blocks).chunks
    ]


def questions(corpus: Path, n: int) -> list[str]:
    """Gold questions if any, topped up to n with questions made from corpus sentences."""
    found: list[str] = []
    if GOLD.is_file():
        for line in GOLD.read_text(encoding="utf-8").splitlines():
            if line.strip():
                found.append(json.loads(line)["question"])
    chunker = SentenceChunker()
    templates = ("What about {}?", "Who said {}?", "When did {} happen?", "Why {}?")
    made: list[str] = []
    for document in DocumentLoader().run(corpus).documents:
        for sentence in chunker.run(document.text, document.blocks).sentences:
            words = sentence.text.split()
            if len(words) >= 4:
                made += [t.format(" ".join(words[:8])) for t in templates]
    made = made or ["What happened?"]
    while len(found) < n:
        found.append(made[len(found) % len(made)])
    return found


def latency(call, asks: list[str], retriever: str, clear_cache) -> dict:
    for question in asks[:5]:
        call(question, k=5, retriever=retriever)
    times = []
    for question in asks:
        clear_cache()  # time the whole call, question embedding included
        started = time.perf_counter()
        call(question, k=5, retriever=retriever)
        times.append((time.perf_counter() - started) * 1000)
    ms = np.array(times)
    return {
        "n": len(times),
        "p50_ms": float(np.percentile(ms, 50)),
        "p95_ms": float(np.percentile(ms, 95)),
        "mean_ms": float(ms.mean()),
        "max_ms": float(ms.max()),
    }


def follow_up_latency(qa: rag.QA, conversations: Path, repeat: int) -> dict:
    """ask() of each turn with its history, alone, and as its standalone version (the question as it is meant, asked
    whole) (median of `repeat` rotating timings each), p50 over the turns: all of them, and the follow-ups (every turn
    but first and self-contained ones). Alone is the same text without understanding; the standalone version is what
    understanding makes of it, written by hand, so the two ratios bound what understanding itself adds."""
    turns = []
    for line in conversations.read_text(encoding="utf-8").splitlines():
        history = []
        for turn in json.loads(line)["turns"] if line.strip() else []:
            turns.append(
                (turn["question"], turn["standalone"], list(history), turn["kind"] not in ("first", "self_contained"))
            )
            history.append(qa.ask(turn["question"], history=history))
    ways = ("with_history", "alone", "standalone")
    medians = {way: [] for way in ways}
    for question, standalone, history, _ in turns:
        asks = {"with_history": (question, history), "alone": (question, None), "standalone": (standalone, None)}
        times = {way: [] for way in ways}
        for round_ in range(repeat):
            for way in ways[round_ % 3 :] + ways[: round_ % 3]:  # rotate which goes first
                qa.clear_cache()
                started = time.perf_counter()
                qa.ask(asks[way][0], history=asks[way][1])
                times[way].append((time.perf_counter() - started) * 1000)
        for way, ms in times.items():
            medians[way].append(statistics.median(ms))
    follow = np.array([f for *_, f in turns])
    figures = {}
    for name, inside in (("all", np.ones(len(turns), bool)), ("follow_ups", follow)):
        if not inside.any():
            continue
        p50 = {way: float(np.percentile(np.array(ms)[inside], 50)) for way, ms in medians.items()}
        figures[name] = {
            "turns": int(inside.sum()),
            **{f"{way}_p50_ms": v for way, v in p50.items()},
            "ratio": p50["with_history"] / p50["alone"],
            "ratio_to_standalone": p50["with_history"] / p50["standalone"],
        }
    return figures


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ARTICLES)
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--conversations",
        type=Path,
        default=None,
        metavar="FILE",
        help="also time each turn of these conversations with its history, alone and as its standalone version",
    )
    parser.add_argument(
        "--baseline", default=None, metavar="REV", help="also run this commit's benchmark and compare ask()"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write all figures here")
    args = parser.parse_args(argv)

    facts = machine_facts()
    print("machine: " + ", ".join(f"{k}={v}" for k, v in facts.items()))
    before = run_baseline(args.baseline, args.corpus, args.questions) if args.baseline else None

    embedder = Embedder()
    started = time.perf_counter()
    embedder.run(["warm up"])
    load_s = time.perf_counter() - started
    print(f"model {embedder.model_name}: loaded and warmed up in {load_s:.2f}s")

    texts = chunk_texts(args.corpus)
    n_tokens = embedder.count_tokens(texts)
    window = {
        "max_tokens": embedder.max_tokens,
        "chunk_max": max(n_tokens),
        "chunk_mean": statistics.fmean(n_tokens),
        "chunks_over": sum(n > embedder.max_tokens for n in n_tokens),
    }
    print(
        f"window: chunks max {window['chunk_max']} / mean {window['chunk_mean']:.1f} model tokens "
        f"vs window {window['max_tokens']}; {window['chunks_over']} over"
    )

    with tempfile.TemporaryDirectory(prefix="verbatim-bench-") as tmp:
        index_dir = Path(tmp) / "index"
        builds, encodes = [], []
        for round_ in range(args.repeat):
            report = Indexer(embedder).run(args.corpus, index_dir, rebuild=True)
            builds.append(report.seconds)
            started = time.perf_counter()
            embedder.run(texts)
            encodes.append(time.perf_counter() - started)
            print(f"round {round_ + 1}: build {builds[-1]:.3f}s, raw encode {encodes[-1]:.3f}s")
        embedded = report.chunks_embedded
        if embedded != len(texts):
            print(f"warning: indexer embedded {embedded} texts, benchmark collected {len(texts)}")
        build_s, encode_s = statistics.median(builds), statistics.median(encodes)
        build = {
            "seconds_median": build_s,
            "seconds": builds,
            "chunks": report.chunks_embedded,
            "chunks_per_s": report.chunks_embedded / build_s,
        }
        raw = {
            "seconds_median": encode_s,
            "seconds": encodes,
            "texts": len(texts),
            "texts_per_s": len(texts) / encode_s,
            "build_over_encode": build_s / encode_s,
        }

        again = Indexer(embedder).run(args.corpus, index_dir)
        incremental = {"seconds": again.seconds, "embedded": again.chunks_embedded}

        asks = questions(args.corpus, args.questions)
        started = time.perf_counter()
        qa = rag.load(index_dir)
        open_s = time.perf_counter() - started
        asks_latency = {name: latency(qa.ask, asks, name, qa.clear_cache) for name in RETRIEVERS}
        retrieve_latency = {name: latency(qa.retrieve, asks, name, qa.clear_cache) for name in RETRIEVERS}
        follow_ups = follow_up_latency(qa, args.conversations, max(3, args.repeat)) if args.conversations else None
    baseline = bracketed(before, run_baseline(args.baseline, args.corpus, args.questions)) if args.baseline else None

    print()
    print(
        f"{'index build (median of ' + str(args.repeat) + ')':<34} {build_s:8.3f} s   "
        f"{report.chunks_embedded} chunks   {build['chunks_per_s']:6.1f} chunks/s"
    )
    print(
        f"{'raw encode, same texts (median)':<34} {encode_s:8.3f} s   {len(texts)} texts   "
        f"{raw['texts_per_s']:7.1f} texts/s   build/encode = {raw['build_over_encode']:.2f}x"
    )
    print(f"{'no-change re-run':<34} {incremental['seconds']:8.3f} s   embedded {incremental['embedded']}")
    print(f"{'rag.load (model loads on 1st ask)':<34} {open_s:8.3f} s")
    print(f"\nlatency over {len(asks)} questions, k=5, question embedding included (ms)")
    print(
        f"{'retriever':<10}{'ask p50':>9}{'p95':>9}{'mean':>9}{'max':>9}{'retrieve p50':>14}{'p95':>9}"
        + (f"{'baseline ask p50':>18}{'p95':>9}" if baseline else "")
    )
    for name, row in asks_latency.items():
        line = (
            f"{name:<10}{row['p50_ms']:9.2f}{row['p95_ms']:9.2f}{row['mean_ms']:9.2f}{row['max_ms']:9.2f}"
            f"{retrieve_latency[name]['p50_ms']:14.2f}{retrieve_latency[name]['p95_ms']:9.2f}"
        )
        if baseline:
            line += f"{baseline['ask'][name]['p50_ms']:18.2f}{baseline['ask'][name]['p95_ms']:9.2f}"
        print(line)

    if follow_ups:
        print(
            f"\nask() with history vs alone vs the standalone version, hybrid (median of {max(3, args.repeat)} each, "
            "then p50 over the turns)"
        )
        for name, row in follow_ups.items():
            print(
                f"{name + ' (' + str(row['turns']) + ' turns)':<24}{row['with_history_p50_ms']:9.2f} vs {row['alone_p50_ms']:.2f} "
                f"vs {row['standalone_p50_ms']:.2f} ms   x{row['ratio']:.3f} alone, x{row['ratio_to_standalone']:.3f} standalone"
            )

    figures = {
        "machine": facts,
        "corpus": str(args.corpus),
        "model": embedder.model_name,
        "model_load_s": load_s,
        "window": window,
        "build": build,
        "raw_encode": raw,
        "incremental": incremental,
        "open_s": open_s,
        "ask": asks_latency,
        "retrieve": retrieve_latency,
        "follow_ups": follow_ups,
        "baseline": {"rev": args.baseline, **baseline} if baseline else None,
    }
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
        print(f"\nwrote {args.json}")
    return figures


def bracketed(before: dict, after: dict) -> dict:
    """The baseline's ask() figures as the mean of its runs before and after this version's: a VM whose speed drifts
    during the benchmark (seen: 0.78 x to 0.92 x in runs an hour apart) then drifts for both alike."""
    ask = {
        name: {key: (before["ask"][name][key] + after["ask"][name][key]) / 2 for key in after["ask"][name]}
        for name in after["ask"]
    }
    return {"ask": ask, "before": before["ask"], "after": after["ask"]}


def run_baseline(rev: str, corpus: Path, n_questions: int) -> dict:
    """The benchmark of commit `rev`, run from a temporary git worktree with this Python."""
    with tempfile.TemporaryDirectory(prefix="verbatim-baseline-") as tmp:
        tree, out = Path(tmp) / "tree", Path(tmp) / "figures.json"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(tree), rev], check=True)
        try:
            script = (
                ["-m", "eval.bench.bench"] if (tree / "eval" / "bench" / "bench.py").is_file() else ["eval/bench.py"]
            )
            print(f"\nbaseline {rev}: running its {' '.join(script)}")
            subprocess.run(
                [
                    sys.executable,
                    *script,
                    "--corpus",
                    str(corpus.resolve()),
                    "--questions",
                    str(n_questions),
                    "--repeat",
                    "1",
                    "--json",
                    str(out),
                ],
                cwd=tree,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            return json.loads(out.read_text())
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False)


if __name__ == "__main__":
    main()
