"""Verbatim's evaluation: the gold data (eval/data/), the benchmarks and harnesses that tests import (eval.bench) and
the one-off studies behind past decisions (eval.studies). Scripts run from the repository root as modules, e.g.
`python -m eval.bench.bench`; eval/README.md is the guide."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the repository
ARTICLES = ROOT / "data" / "articles"  # the shipped articles the gold data is about
DATA = ROOT / "eval" / "data"
GOLD = DATA / "gold.jsonl"
CONVERSATIONS = DATA / "conversations.jsonl"
PAGES = DATA / "pages"
CACHE = ROOT / "eval" / "cache"  # git-ignored: sets the studies make and read (held-out, SQuAD half, archive)
SHARED = ROOT.parent / "shared"  # qa-train and SQuAD, beside the repository


def child_env(**extra: str) -> dict[str, str]:
    """This process's environment with the repository first on PYTHONPATH: for a child Python that imports rag or eval."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, **extra}
