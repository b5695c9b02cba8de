"""`rag check`: read an index in full and say what is damaged and how to repair it.

Like SQLite's `PRAGMA integrity_check` or Lucene's CheckIndex, it reads everything a question could
touch: the commit and its own checksum, every segment file against the size and sha256 recorded
when it was written, and inside each segment the rows, texts, offsets, vectors and search indexes.
It changes nothing; `rag index CORPUS_DIR` repairs what it reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .errors import IndexCorruptError, IndexIncompatibleError, IndexNotFoundError
from .segments import DamagedSegmentError
from .store import COMMIT_FILE, Commit, leftovers, open_segment, read_commit


@dataclass
class SegmentCheck:
    name: str
    documents: int
    chunks: int
    problems: list[str] = field(default_factory=list)


@dataclass
class IndexCheck:
    """What `rag check` found: `problem` for the index as a whole, else each live segment's problems."""

    index_dir: Path
    problem: str | None = None
    segments: list[SegmentCheck] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.problem is None and not any(s.problems for s in self.segments)

    def lines(self) -> list[str]:
        """The report, one line per finding, ending with the verdict and, when damaged, the repair."""
        repair = f"rag index CORPUS_DIR --index-dir {self.index_dir}"
        if self.problem:
            return [f"{self.index_dir}: {self.problem}", f"DAMAGED. To repair: {repair} (rebuilds it from the corpus)"]
        lines = [
            f"segment {s.name}: {s.documents} documents, {s.chunks} chunks: " + ("; ".join(s.problems) or "ok")
            for s in self.segments
        ]
        lines += [f"leftover {name} (no commit uses it; the next rag index removes it)" for name in self.leftovers]
        documents = sum(s.documents for s in self.segments)
        damaged = sum(s.documents for s in self.segments if s.problems)
        if not damaged:
            return [
                *lines,
                f"{self.index_dir}: ok ({_count(len(self.segments), 'segment')}, {_count(documents, 'document')})",
            ]
        return [
            *lines,
            f"DAMAGED: {damaged} of {documents} documents are in damaged segments. "
            f"To repair: {repair} (indexes them again from the corpus)",
        ]


class IndexChecker:
    """Checks every file and row of an index folder; changes nothing."""

    def run(self, index_dir: str | Path) -> IndexCheck:
        index_dir = Path(index_dir)
        check = IndexCheck(index_dir)
        try:
            commit = read_commit(index_dir)
        except IndexIncompatibleError:
            check.problem = "it was written in another format version"
            return check
        except IndexCorruptError as exc:
            check.problem = f"its {COMMIT_FILE} cannot be read ({exc.__cause__ or exc})"
            return check
        if commit is None:
            raise IndexNotFoundError(
                f"no index at {index_dir}; build one with: rag index CORPUS_DIR --index-dir {index_dir}"
            )
        check.segments = [self._segment(index_dir, commit, i) for i in range(len(commit.segments))]
        check.leftovers = [path.name for path in leftovers(index_dir, commit)]
        return check

    def _segment(self, index_dir: Path, commit: Commit, i: int) -> SegmentCheck:
        live = commit.segments[i]
        result = SegmentCheck(live.name, live.documents - len(live.deleted), live.chunks)
        try:
            open_segment(index_dir, live, commit.dimension, full_check=True).close()
        except DamagedSegmentError as exc:
            result.problems = exc.problems
        return result


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
