"""Corpus folder → index: read, chunk, embed and store only what changed since the last build."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from tqdm.auto import tqdm

from .chunking import SentenceChunker
from .details import details_of, file_sha256, fingerprint
from .documents import Document, DocumentLoader, SkippedFile, read_document
from .embedding import Embedder
from .errors import CorpusError, IndexCorruptError, IndexIncompatibleError
from .files import sha256_of
from .store import (
    FORMAT_VERSION,
    Commit,
    IndexWriter,
    index_lock,
    is_old_format,
    merge_segments,
    read_commit,
)

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int, str], None]


def progress_bar(**options) -> tqdm:
    """A tqdm bar that redraws often on a terminal and only every 15 s in a log file."""
    return tqdm(mininterval=0.2 if sys.stderr.isatty() else 15.0, **options)


@dataclass
class IndexReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[SkippedFile] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)  # damaged segments dropped, their documents indexed again
    relabelled: list[str] = field(
        default_factory=list
    )  # of `updated`: only their set details changed, nothing embedded
    chunks_embedded: int = 0
    seconds: float = 0.0

    def skip(self, skipped: SkippedFile) -> None:
        """Record a file that could not be read; it is no longer counted as added or updated."""
        self.skipped.append(skipped)
        for changed in (self.added, self.updated):
            if skipped.path in changed:
                changed.remove(skipped.path)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    @classmethod
    def combined(cls, reports: list[IndexReport]) -> IndexReport:
        """One report of several updates (the shards of one index)."""
        total = cls()
        for report in reports:
            for name in ("added", "updated", "removed", "skipped", "repaired", "relabelled"):
                getattr(total, name).extend(getattr(report, name))
            total.unchanged += report.unchanged
            total.chunks_embedded += report.chunks_embedded
            total.seconds += report.seconds
        return total

    def summary(self) -> str:
        repaired = f"; repaired {len(self.repaired)} damaged segment(s)" if self.repaired else ""
        relabelled = f" ({len(self.relabelled)} only their details)" if self.relabelled else ""
        return (
            f"{len(self.added)} added, {len(self.updated)} updated{relabelled}, {len(self.removed)} removed, "
            f"{self.unchanged} unchanged, {len(self.skipped)} skipped; "
            f"embedded {self.chunks_embedded} chunks in {self.seconds:.1f}s{repaired}"
        )


class Indexer:
    """Builds or incrementally updates the index of a corpus folder.

    A file is read again only when its bytes changed (sha256); one whose set details alone changed (rag/details.py)
    is re-labelled, its chunks and vectors reused. Every update is one commit, after
    which segments are merged as the merge policy says (rag/store.py). An update of the whole
    folder checks every index file and repairs what is damaged from the corpus. The chunks of
    `documents_per_batch` files are embedded together: the more texts, the less padding once the
    embedder has sorted them by length."""

    def __init__(
        self, embedder: Embedder | None = None, chunker: SentenceChunker | None = None, documents_per_batch: int = 128
    ):
        self.embedder = embedder or Embedder()
        self.chunker = chunker or SentenceChunker()
        self.documents_per_batch = documents_per_batch

    def run(
        self,
        corpus_dir: str | Path,
        index_dir: str | Path,
        rebuild: bool = False,
        optimize: bool = False,
        show_progress: bool = False,
        on_progress: ProgressCallback | None = None,
    ) -> IndexReport:
        """Index what changed in the folder, then merge segments (`optimize`: all into one). The folder is read
        under the index lock, so that two updates cannot commit what they saw of it in the wrong order."""
        with index_lock(index_dir):
            files = DocumentLoader().files(corpus_dir)
            if not files:
                raise CorpusError(f"no readable .txt, .md, .html or .pdf article in {corpus_dir}")
            return self._update_all(files, Path(index_dir), rebuild, optimize, show_progress, on_progress)

    def index_all(
        self, files: list[tuple[str, Path]], index_dir: str | Path, rebuild=False, optimize=False, show_progress=False
    ) -> IndexReport:
        """Make the index hold exactly these (document id, path) files: one shard's part of a folder (rag/shards.py)."""
        with index_lock(index_dir):
            return self._update_all(files, Path(index_dir), rebuild, optimize, show_progress, None)

    def _update_all(self, files, index_dir: Path, rebuild, optimize, show_progress, on_progress) -> IndexReport:
        started = time.perf_counter()
        report = self._update(files, index_dir, rebuild, show_progress, on_progress)
        merge_segments(index_dir, everything=optimize)
        report.seconds = time.perf_counter() - started
        return report

    def update_files(
        self,
        index_dir: str | Path,
        files: list[tuple[str, Path]] = (),
        removed: list[str] = (),
        on_progress: ProgressCallback | None = None,
    ) -> IndexReport:
        """Index these (document id, path) files, new or changed, and remove these documents, without looking
        at the rest of the folder (an upload to a large library costs its own files only)."""
        started = time.perf_counter()
        with index_lock(index_dir):
            report = self._update(
                list(files), Path(index_dir), False, False, on_progress, whole_folder=False, removed=removed
            )
            merge_segments(index_dir)
        report.seconds = time.perf_counter() - started
        return report

    def _update(
        self,
        files: list[tuple[str, Path]],
        index_dir: Path,
        rebuild: bool,
        show_progress: bool,
        on_progress: ProgressCallback | None,
        whole_folder: bool = True,
        removed: list[str] = (),
    ) -> IndexReport:
        """Compare the files with the live index and commit what changed (the caller holds the index lock);
        with `whole_folder`, an indexed document missing from `files` is removed, else those `removed`, and the
        index is repaired: checked in full, damaged segments indexed again, an unreadable commit rebuilt."""
        if not rebuild and is_old_format(index_dir):
            log.warning("the index at %s has an older format; rebuilding it", index_dir)
            rebuild = True
        try:
            live = read_commit(index_dir)
        except (IndexCorruptError, IndexIncompatibleError) as exc:
            if not (rebuild or whole_folder and isinstance(exc, IndexCorruptError)):
                raise
            if not rebuild:
                log.warning(
                    "the index at %s cannot be read (%s); rebuilding it from the corpus",
                    index_dir,
                    exc.__cause__ or exc,
                )
                rebuild = True
            live = None
        if live is not None and not rebuild:
            live.check_compatible(self.embedder.model_name, self.chunker.settings, index_dir)
        target = Commit(FORMAT_VERSION, self.embedder.model_name, self.embedder.dimension, self.chunker.settings)
        # The writer opens the live commit once; what it holds decides what to write, and its start
        # removes what a crashed run left, even when nothing changed since.
        with IndexWriter(index_dir, target, start_empty=rebuild or live is None, repair=whole_folder) as writer:
            indexed = writer.document_hashes(None if whole_folder else [d for d, _ in files] + list(removed))
            report, to_read, to_relabel = IndexReport(), [], []
            for doc_id, path in files:
                known = indexed.get(doc_id)
                if known is not None:
                    sha, details = sha256_of(path), details_of(path)
                    if known == fingerprint(path, sha, details):
                        report.unchanged += 1
                        continue
                    if file_sha256(known) == sha:  # the same text with other details: no need to embed it again
                        report.updated.append(doc_id)
                        to_relabel.append((doc_id, path, details))
                        continue
                (report.added if known is None else report.updated).append(doc_id)
                to_read.append((doc_id, path))
            report.removed = sorted(
                set(indexed) - {doc_id for doc_id, _ in files} if whole_folder else set(removed) & set(indexed)
            )
            report.repaired = writer.damaged
            if report.changed or report.repaired or live is None or rebuild:
                to_read += self._relabel(writer, to_relabel, indexed, report)
                self.write_files(writer, to_read, report, show_progress, on_progress)
                for doc_id in report.updated + report.removed:  # an unreadable new version keeps the old one
                    writer.remove(doc_id)
                if writer.n_documents == 0:
                    raise CorpusError("no readable .txt, .md, .html or .pdf article would be left in the index")
                writer.commit()
        return report

    def _relabel(
        self, writer: IndexWriter, files: list[tuple[str, Path, object]], indexed: dict[str, str], report: IndexReport
    ) -> list[tuple[str, Path]]:
        """Give these documents their new set details, reusing their chunks and vectors; returns those whose file
        changed meanwhile, to be read in full."""
        changed = []
        for doc_id, path, details in files:
            document = _parse(doc_id, path, report, details)  # what the text states, under the details: no embedding
            if document is None:
                continue
            if file_sha256(document.sha256) != file_sha256(indexed[doc_id]) or not writer.relabel(
                doc_id, document.sha256, document.meta
            ):
                changed.append((doc_id, path))
            else:
                report.relabelled.append(doc_id)
        return changed

    def write_files(
        self,
        writer: IndexWriter,
        files: list[tuple[str, Path]],
        report: IndexReport,
        show_progress: bool,
        on_progress: ProgressCallback | None,
    ) -> None:
        """Parse, chunk and embed the files into the writer's new segment; unreadable ones are skipped."""
        with progress_bar(total=len(files), unit="file", desc="indexing", disable=not show_progress) as bar:
            for first in range(0, len(files), self.documents_per_batch):
                batch = [
                    d
                    for d in (
                        _parse(doc_id, path, report) for doc_id, path in files[first : first + self.documents_per_batch]
                    )
                    if d
                ]
                chunked = [self.chunker.run(document.text, document.blocks) for document in batch]
                vectors = self.embedder.run([c.text for parts in chunked for c in parts.chunks])
                for document, parts in zip(batch, chunked):
                    writer.add(document, parts, vectors[: len(parts.chunks)])
                    vectors = vectors[len(parts.chunks) :]
                report.chunks_embedded += sum(len(parts.chunks) for parts in chunked)
                done = min(first + self.documents_per_batch, len(files))
                bar.update(done - first)
                if on_progress:  # counted here: a disabled bar counts nothing
                    on_progress(done, len(files), files[done - 1][0])


def _parse(doc_id: str, path: Path, report: IndexReport, details=None) -> Document | None:
    """The file as a Document, under its set details, its sha256 the fingerprint the index records; or None with
    the file recorded as skipped in the report."""
    details = details_of(path) if details is None else details
    read = read_document(doc_id, path, details=details)
    if isinstance(read, Document):
        return replace(read, sha256=fingerprint(path, read.sha256, details))
    report.skip(read)
    return None
