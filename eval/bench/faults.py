"""Fault injection: damage an index in every way we can name, kill -9 builds at random and aimed moments,
and count what was detected, what changed an answer silently, and what `rag index` repaired.

    python -m eval.bench.faults [--corpus data/articles] [--trials 5] [--random-kills 30] [--aimed-kills 3] [--json OUT]

1. Damage: each kind (garbled bytes, truncation, deletion of every segment file, a rewritten document
   text, and a commit that is garbled, truncated, not UTF-8, a folder or edited) is applied `--trials`
   times at random places to a copy of a fresh index. For each: is it detected when the index is
   opened, or when a question reads it; does any answer change without an error (silent); does
   `rag check` report it; and does `rag index` on the unchanged corpus repair it (check ok, answers
   as before)?
2. Kills: a writer process that adds, changes and removes articles and merges segments is killed
   with SIGKILL at random moments (`--random-kills`) and at the start of each stage of a commit
   (`--aimed-kills` times per stage: writing a segment, its checksums, fsync, the commit's rename,
   the clean-up, a merge). After each kill the last commit must open, answer, and pass `rag check`;
   the next run must leave only the live and previous segments.

tests/test_faults.py runs a small sample of both in CI; this script's figures go in the closing note.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import rag
from eval import ARTICLES, child_env
from rag.check import IndexChecker
from rag.embedding import Embedder
from rag.indexing import Indexer
from rag.store import read_commit

QUESTIONS = [
    "Who is the Kremlin spokesperson?",
    "How many nuclear warheads does Russia possess?",
    "In which city did Trump address the World Economic Forum?",
    "Why has Zelensky's presidential term been prolonged?",
]


def answers(index_dir: Path) -> list[tuple]:
    """What a reader would see for each question: quote, citations, confidence."""
    qa = rag.load(index_dir)
    return [
        (a.text, [(c.source, c.start, c.end) for c in a.citations], round(a.confidence, 6))
        for a in map(qa.ask, QUESTIONS)
    ]


def only_segment(index_dir: Path) -> Path:
    [segment] = read_commit(index_dir).segments
    return index_dir / "segments" / segment.name


# --- kinds of damage: each changes an index folder in place, at a place drawn from `rng` ---


def _garble(path: Path, rng: random.Random, n: int = 64) -> None:
    data = bytearray(path.read_bytes())
    at = rng.randrange(max(1, len(data) - n))
    data[at : at + n] = bytes(rng.randrange(256) for _ in range(min(n, len(data) - at)))
    path.write_bytes(bytes(data))


def _truncate(path: Path, rng: random.Random) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: rng.randrange(len(data))])


def _segment_file(name: str) -> Callable[[Path], Path]:
    return lambda index_dir: only_segment(index_dir) / name


def _rewrite_text(index_dir: Path, rng: random.Random) -> None:
    """A document's text changed inside a valid database: what a quote would be cut from."""
    with sqlite3.connect(only_segment(index_dir) / "rows.sqlite") as db:
        ids = [i for (i,) in db.execute("SELECT id FROM documents ORDER BY id")]
        db.execute("UPDATE documents SET text = replace(text, ' the ', ' no ') WHERE id = ?", (rng.choice(ids),))


def _rewrite_text_unseen(index_dir: Path, rng: random.Random) -> None:
    """The same, with the file checksums in the commit made to match: damage that only the per-document text
    checksums can see (as in a file too large to hash at open)."""
    from rag.segments import file_checksums
    from rag.store import COMMIT_FILE

    _rewrite_text(index_dir, rng)
    commit = read_commit(index_dir)
    segment = commit.segments[0]
    fixed = [type(segment)(**{**asdict(segment), "files": file_checksums(only_segment(index_dir))})]
    (index_dir / COMMIT_FILE).write_text(type(commit)(**{**asdict(commit), "segments": tuple(fixed)}).to_json())


def _commit_edit(index_dir: Path, rng: random.Random) -> None:
    """Valid JSON with one number changed."""
    data = json.loads((index_dir / "COMMIT").read_text())
    data["segments"][0]["chunks"] += rng.choice((-1, 1))
    (index_dir / "COMMIT").write_text(json.dumps(data))


def _commit_folder(index_dir: Path, rng: random.Random) -> None:
    (index_dir / "COMMIT").unlink()
    (index_dir / "COMMIT").mkdir()


def _file_damage(
    what: Callable[[Path], Path], how: Callable[[Path, random.Random], None]
) -> Callable[[Path, random.Random], None]:
    return lambda index_dir, rng: how(what(index_dir), rng)


_BM25_FILES = (
    "data.csc.index.npy",
    "indices.csc.index.npy",
    "indptr.csc.index.npy",
    "vocab.index.json",
    "params.index.json",
)
_FILES = {
    "rows.sqlite": _segment_file("rows.sqlite"),
    "vectors.npy": _segment_file("vectors.npy"),
    **{f"bm25/{name}": _segment_file(f"bm25/{name}") for name in _BM25_FILES},
}
DAMAGES: dict[str, Callable[[Path, random.Random], None]] = {
    **{f"garble {name}": _file_damage(path, _garble) for name, path in _FILES.items()},
    **{f"truncate {name}": _file_damage(path, _truncate) for name, path in _FILES.items()},
    **{f"delete {name}": _file_damage(path, lambda p, rng: p.unlink()) for name, path in _FILES.items()},
    "rewrite a document text": _rewrite_text,
    "rewrite a document text, file checksums fixed": _rewrite_text_unseen,
    "garble COMMIT": _file_damage(lambda d: d / "COMMIT", lambda p, rng: _garble(p, rng, 8)),
    "truncate COMMIT": _file_damage(lambda d: d / "COMMIT", _truncate),
    "COMMIT not UTF-8": _file_damage(
        lambda d: d / "COMMIT", lambda p, rng: p.write_bytes(b"\xff\xfe\x80" + p.read_bytes())
    ),
    "COMMIT a folder": _commit_folder,
    "COMMIT edited": _commit_edit,
}


@dataclass
class DamageOutcome:
    kind: str
    at_open: bool  # rag.load raised a RagError
    at_ask: bool  # a question raised a RagError
    silent: bool  # an answer changed and nothing was raised
    checked: bool  # rag check reported damage
    repaired: bool  # rag index on the unchanged corpus gave a healthy index and the same answers


def try_damage(
    kind: str, index_dir: Path, corpus: Path, embedder: Embedder, reference: list[tuple], rng: random.Random
) -> DamageOutcome:
    """Damage a copy of an index one way, then see who notices and whether `rag index` repairs it."""
    DAMAGES[kind](index_dir, rng)
    at_open = at_ask = silent = False
    try:
        qa = rag.load(index_dir)
    except rag.RagError:
        at_open = True
    else:
        try:
            seen = [
                (a.text, [(c.source, c.start, c.end) for c in a.citations], round(a.confidence, 6))
                for a in map(qa.ask, QUESTIONS)
            ]
            silent = seen != reference
        except rag.RagError:
            at_ask = True
    checked = not IndexChecker().run(index_dir).ok
    Indexer(embedder).run(corpus, index_dir)
    repaired = IndexChecker().run(index_dir).ok and answers(index_dir) == reference
    return DamageOutcome(kind, at_open, at_ask, silent, checked, repaired)


# --- kills ---

WRITER = textwrap.dedent("""
    import os, pathlib, signal, sys
    from rag.indexing import Indexer
    corpus, index_dir, target, nth = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
    indexer = Indexer()
    indexer.embedder.model  # load before saying ready
    calls = 0

    def aim(frame, event, arg):  # kill -9 on entering the nth call of `target` (a function's qualified name or os.<name>)
        global calls
        name = getattr(arg, "__name__", None) if event == "c_call" else frame.f_code.co_qualname if event == "call" else None
        if name and (name == target or "os." + name == target and getattr(arg, "__module__", "") == "posix"):
            calls += 1
            if calls == nth:
                os.kill(os.getpid(), signal.SIGKILL)

    print("ready", flush=True)
    if target != "random":
        sys.setprofile(aim)
    for n in range(1000):  # notes are replaced whole, so that only the index can be caught half-written
        (corpus / ".note.tmp").write_text(f"Note {n}: the harbour bell rang {n} times at dawn.")
        os.replace(corpus / ".note.tmp", corpus / f"note-{n % 3}.txt")
        (corpus / f"note-{(n + 1) % 3}.txt").unlink(missing_ok=True)
        indexer.run(corpus, index_dir, optimize=n % 2 == 1)
""")
STAGES = (
    "Indexer.write_files",
    "SegmentWriter.finish",
    "SegmentWriter._write_bm25",
    "file_checksums",
    "fsync",
    "os.rename",
    "IndexWriter.commit",
    "os.replace",
    "remove_leftovers",
    "IndexWriter.merge",
    "SegmentWriter.copy_live",
    "_remove",
)


@dataclass
class KillOutcome:
    target: str
    killed: bool  # the writer died by SIGKILL (an aimed stage may not be reached before the loop ends)
    usable: bool  # the last commit opened, answered as before and passed rag check
    clean: bool  # the next run left only the live and previous segments and no temporary files


def kill_writer(
    corpus: Path,
    index_dir: Path,
    embedder: Embedder,
    reference: list[tuple],
    target: str,
    nth: int,
    delay: float,
    script: Path,
) -> KillOutcome:
    """Run the looping writer, kill it (at `target`'s nth call, or after `delay` s), then check the index."""
    writer = subprocess.Popen(
        [sys.executable, str(script), str(corpus), str(index_dir), target, str(nth)],
        stdout=subprocess.PIPE,
        text=True,
        env=child_env(),
    )  # the repository's rag
    assert writer.stdout.readline().strip() == "ready"
    if target == "random":
        time.sleep(delay)
        writer.send_signal(signal.SIGKILL)
    try:
        writer.wait(timeout=120)
    except subprocess.TimeoutExpired:
        writer.kill()
        writer.wait()
    killed = writer.returncode == -signal.SIGKILL
    usable = answers(index_dir)[:2] == reference[:2] and IndexChecker().run(index_dir).ok
    Indexer(embedder).run(corpus, index_dir)
    commit = read_commit(index_dir)
    names = {p.name for p in (index_dir / "segments").iterdir()}
    clean = names == {s.name for s in commit.segments} | set(commit.previous) and sorted(
        p.name for p in index_dir.iterdir()
    ) == [".lock", "COMMIT", "segments"]
    return KillOutcome(target, killed, usable, clean)


def writer_script(folder: Path) -> Path:
    script = folder / "writer.py"
    script.write_text(WRITER)
    return script


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default=str(ARTICLES))
    parser.add_argument(
        "--trials", type=int, default=5, help="random placements of each kind of damage (default: %(default)s)"
    )
    parser.add_argument("--random-kills", type=int, default=30, help="kills at random moments (default: %(default)s)")
    parser.add_argument(
        "--aimed-kills", type=int, default=2, help="kills aimed at each commit stage (default: %(default)s)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", metavar="OUT", help="write every outcome as JSON")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    embedder = Embedder()
    with tempfile.TemporaryDirectory(prefix="verbatim-faults-") as tmp:
        tmp = Path(tmp)
        corpus = tmp / "corpus"
        shutil.copytree(args.corpus, corpus)
        fresh = tmp / "fresh"
        Indexer(embedder).run(corpus, fresh)
        reference = answers(fresh)

        damages = []
        for kind in DAMAGES:
            for _ in range(args.trials):
                index_dir = tmp / "damaged"
                shutil.rmtree(index_dir, ignore_errors=True)
                shutil.copytree(fresh, index_dir)
                damages.append(try_damage(kind, index_dir, corpus, embedder, reference, rng))
        print(f"{'damage':<48}{'n':>3}{'open':>6}{'ask':>5}{'silent':>8}{'check':>7}{'repaired':>10}")
        for kind in DAMAGES:
            rows = [d for d in damages if d.kind == kind]
            print(
                f"{kind:<48}{len(rows):>3}"
                + "".join(
                    f"{sum(getattr(d, f) for d in rows):>{w}}"
                    for f, w in (("at_open", 6), ("at_ask", 5), ("silent", 8), ("checked", 7), ("repaired", 10))
                )
            )
        undetected = sum(not (d.at_open or d.at_ask) for d in damages)
        print(
            f"damage: {len(damages)} trials of {len(DAMAGES)} kinds; undetected {undetected}, silent wrong answers "
            f"{sum(d.silent for d in damages)}, missed by rag check {sum(not d.checked for d in damages)}, "
            f"not repaired {sum(not d.repaired for d in damages)}"
        )

        script = writer_script(tmp)
        kills = []
        index_dir = tmp / "killed"
        shutil.copytree(fresh, index_dir)
        for _ in range(args.random_kills):
            kills.append(
                kill_writer(corpus, index_dir, embedder, reference, "random", 0, rng.uniform(0.1, 4.0), script)
            )
        for stage in STAGES:
            for _ in range(args.aimed_kills):
                kills.append(kill_writer(corpus, index_dir, embedder, reference, stage, rng.randint(1, 3), 0, script))
        print(f"{'kill':<28}{'n':>3}{'killed':>8}{'usable':>8}{'clean':>7}")
        for target in ("random", *STAGES):
            rows = [k for k in kills if k.target == target]
            print(
                f"{target:<28}{len(rows):>3}"
                + "".join(
                    f"{sum(getattr(k, f) for k in rows):>{w}}" for f, w in (("killed", 8), ("usable", 8), ("clean", 7))
                )
            )
        print(
            f"kills: {sum(k.killed for k in kills)} of {len(kills)} runs killed; last commit unusable after "
            f"{sum(not k.usable for k in kills)}, not cleaned up after {sum(not k.clean for k in kills)}"
        )
    if args.json:
        Path(args.json).write_text(
            json.dumps({"damage": [asdict(d) for d in damages], "kills": [asdict(k) for k in kills]}, indent=1)
        )


if __name__ == "__main__":
    main()
