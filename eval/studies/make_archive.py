"""An archive to ask in: the shipped articles plus N other articles as distractors, made of qa-train
paragraphs (SQuAD-shifts New Wiki and SQuAD 1.1 train articles, a title line and their paragraphs).

    python -m eval.studies.make_archive --articles 500 --out eval/cache/archive
    rag eval --conversations eval/data/conversations.jsonl --corpus eval/cache/archive
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import shutil
from pathlib import Path

from eval import ARTICLES, CACHE, SHARED

SOURCES = ("squadshifts-new-wiki.json.gz", "squad1-train-rest.json.gz")
MARK = ".archive"  # a dotfile: the corpus reader skips it


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=500, help="distractor articles")
    parser.add_argument("--paragraphs", type=int, default=6, help="paragraphs per distractor article at most")
    parser.add_argument("--data", default=str(SHARED / "qa-train"))
    parser.add_argument("--corpus", default=str(ARTICLES), help="the articles asked about")
    parser.add_argument("--out", default=str(CACHE / "archive"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    pieces = []  # (title, paragraphs): an article may be cut into several of at most --paragraphs
    for name in SOURCES:
        for article in json.load(gzip.open(Path(args.data) / name, "rt"))["data"]:
            contexts = [p["context"].replace("\n", " ") for p in article["paragraphs"]]
            pieces += [
                (article["title"].replace("_", " "), contexts[i : i + args.paragraphs])
                for i in range(0, len(contexts), args.paragraphs)
            ]
    rng.shuffle(pieces)
    out, corpus = Path(args.out).resolve(), Path(args.corpus).resolve()
    if out == corpus or corpus in out.parents or out in corpus.parents:
        raise SystemExit(f"--out {out} would overwrite the corpus {corpus}: name another folder")
    if out.exists():
        if not (out / MARK).is_file():
            raise SystemExit(
                f"{out} exists and was not made by this script: name another folder, or remove it yourself"
            )
        shutil.rmtree(out)
    shutil.copytree(corpus, out)
    (out / MARK).write_text("made by eval/studies/make_archive.py; rerunning it replaces this folder\n")
    for number, (title, paragraphs) in enumerate(pieces[: args.articles]):
        safe = re.sub(r"[^A-Za-z0-9_-]+", "_", title)[:60]
        (out / f"distractor_{number:04d}_{safe}.txt").write_text(
            title + "\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8"
        )
    print(
        f"wrote {out}: the {len(list(Path(args.corpus).glob('*')))} articles of {args.corpus} and {min(args.articles, len(pieces))} distractors"
    )


if __name__ == "__main__":
    main()
