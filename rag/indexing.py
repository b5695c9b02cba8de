"""Corpus folder → index: load, chunk, embed and store only what changed since the last build."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from .chunking import SentenceChunker
from .documents import Document, DocumentLoader, LoadedCorpus, SkippedFile
from .embedding import Embedder
from .errors import CorpusError, IndexCorruptError, IndexIncompatibleError
from .store import FORMAT_VERSION, IndexWriter, Manifest, index_lock, read_manifest

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
    chunks_embedded: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.updated)} updated, {len(self.removed)} removed, "
            f"{self.unchanged} unchanged, {len(self.skipped)} skipped; "
            f"embedded {self.chunks_embedded} chunks in {self.seconds:.1f}s"
        )


class Indexer:
    """Builds or incrementally updates the index of a corpus folder."""

    def __init__(self, embedder: Embedder | None = None, chunker: SentenceChunker | None = None, documents_per_batch: int = 16):
        self.embedder = embedder or Embedder()
        self.chunker = chunker or SentenceChunker()
        self.documents_per_batch = documents_per_batch

    def run(self, corpus_dir: str | Path, index_dir: str | Path, rebuild: bool = False,
            show_progress: bool = False, on_progress: ProgressCallback | None = None) -> IndexReport:
        started = time.perf_counter()
        corpus = DocumentLoader().run(corpus_dir)
        if not corpus.documents:
            raise CorpusError(f"no readable .txt, .md or .html article in {corpus_dir}")
        with index_lock(index_dir):
            report = self._update(corpus, index_dir, rebuild, show_progress, on_progress)
        report.seconds = time.perf_counter() - started
        return report

    def _update(self, corpus: LoadedCorpus, index_dir: str | Path, rebuild: bool,
                show_progress: bool, on_progress: ProgressCallback | None) -> IndexReport:
        """Compare the corpus with the live index and write what changed (the caller holds the index lock)."""
        try:
            live = read_manifest(index_dir)
        except (IndexCorruptError, IndexIncompatibleError):
            if not rebuild:
                raise
            live = None
        if live is not None and not rebuild:
            live.check_compatible(self.embedder.model_name, self.chunker.settings, index_dir)
        indexed = {} if live is None or rebuild else live.documents
        report = IndexReport(skipped=corpus.skipped)
        to_add: list[Document] = []
        for document in corpus.documents:
            if document.id not in indexed:
                report.added.append(document.id)
                to_add.append(document)
            elif indexed[document.id] != document.sha256:
                report.updated.append(document.id)
                to_add.append(document)
            else:
                report.unchanged += 1
        present = {d.id for d in corpus.documents} | {s.path for s in corpus.skipped}
        report.removed = sorted(set(indexed) - present)
        if report.changed or live is None or rebuild:
            target = Manifest(FORMAT_VERSION, self.embedder.model_name, self.embedder.dimension, self.chunker.settings)
            with IndexWriter(index_dir, target, start_empty=rebuild or live is None) as writer:
                for doc_id in report.updated + report.removed:
                    writer.remove(doc_id)
                self._add(writer, to_add, report, show_progress, on_progress)
                writer.commit()
        return report

    def _add(self, writer: IndexWriter, documents: list[Document], report: IndexReport,
             show_progress: bool, on_progress: ProgressCallback | None) -> None:
        with progress_bar(total=len(documents), unit="file", desc="indexing", disable=not show_progress) as bar:
            for first in range(0, len(documents), self.documents_per_batch):
                batch = documents[first : first + self.documents_per_batch]
                chunked = [self.chunker.run(document.text) for document in batch]
                vectors = self.embedder.run([c.text for parts in chunked for c in parts.chunks])
                for document, parts in zip(batch, chunked):
                    writer.add(document, parts, vectors[: len(parts.chunks)])
                    vectors = vectors[len(parts.chunks) :]
                report.chunks_embedded += sum(len(parts.chunks) for parts in chunked)
                bar.update(len(batch))
                if on_progress:
                    on_progress(bar.n, len(documents), batch[-1].id)
