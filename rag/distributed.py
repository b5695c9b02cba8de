"""Ingestion beyond one machine: parse, chunk and embed on a Ray cluster, each worker writing segments.

    rag index CORPUS --ray [ADDRESS]        (pip install .[distributed])

The driver lists the files and works out what changed, exactly as a local build does. Ray Data
hands the changed files out in batches to a pool of actors (each loads the embedding model once,
on a GPU when the cluster has them); every batch becomes one segment written straight into the
index folder, which must therefore be storage that all nodes share, and every node needs Verbatim
installed. The driver then merges the workers' segments into one and commits it with the
deletions, atomically, so the index ends as a local build's would.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from .chunking import SentenceChunker
from .documents import SkippedFile
from .embedding import Embedder
from .indexing import Indexer, IndexReport, ProgressCallback
from .segments import SegmentWriter
from .store import IndexWriter


class RayIndexer(Indexer):
    """An Indexer whose parsing, chunking and embedding run on Ray Data (`address`: None starts a local cluster)."""

    def __init__(
        self,
        embedder: Embedder | None = None,
        chunker: SentenceChunker | None = None,
        address: str | None = None,
        workers: int | None = None,
        documents_per_segment: int = 256,
    ):
        super().__init__(embedder, chunker)
        self.address = address
        self.workers = workers
        self.documents_per_segment = documents_per_segment

    def write_files(
        self,
        writer: IndexWriter,
        files: list[tuple[str, Path]],
        report: IndexReport,
        show_progress: bool,
        on_progress: ProgressCallback | None,
    ) -> None:
        import ray

        if not files:
            return
        started_here = not ray.is_initialized()
        if started_here:
            ray.init(address=self.address, include_dashboard=False, log_to_driver=False, configure_logging=False)
        try:
            ray.data.DataContext.get_current().enable_progress_bars = show_progress
            gpus = int(ray.cluster_resources().get("GPU", 0))
            workers = self.workers or max(1, gpus or int(ray.cluster_resources().get("CPU", 1)))
            built = (
                ray.data.from_items([{"doc_id": doc_id, "path": str(path.resolve())} for doc_id, path in files])
                .map_batches(
                    SegmentBuilder,
                    batch_size=self.documents_per_segment,
                    compute=ray.data.ActorPoolStrategy(size=workers),
                    num_gpus=1 if gpus else 0,
                    num_cpus=0 if gpus else 1,
                    fn_constructor_kwargs={
                        "model": self.embedder.model_name,
                        "chunker": self.chunker.settings,
                        "segments_dir": str(writer.segments_dir.resolve()),
                        "dimension": self.embedder.dimension,
                    },
                )
                .take_all()
            )
        finally:
            if started_here:
                ray.shutdown()
        parts = []
        for part in built:
            report.chunks_embedded += int(part["chunks"])
            for skipped in json.loads(part["skipped"]):
                report.skip(SkippedFile(**skipped))
            if part["segment"]:
                writer.add_segment(part["segment"])
                parts.append(part["segment"])
        if len(parts) > 1:
            writer.merge(parts)
        if on_progress:
            on_progress(len(files), len(files), files[-1][0])


class SegmentBuilder:
    """A Ray actor: turns a batch of files into one finished segment in the shared index folder."""

    def __init__(self, model: str, chunker: dict, segments_dir: str, dimension: int):
        import torch

        embedder = Embedder(model, device="cuda" if torch.cuda.is_available() else None)
        self.indexer = Indexer(embedder, SentenceChunker(**chunker))
        self.segments_dir = Path(segments_dir)
        self.dimension = dimension

    def __call__(self, batch: dict) -> dict:
        report = IndexReport()
        files = [(str(doc_id), Path(path)) for doc_id, path in zip(batch["doc_id"], batch["path"])]
        report.added = [doc_id for doc_id, _ in files]
        writer = SegmentWriter(self.segments_dir, self.dimension)
        try:
            self.indexer.write_files(writer, files, report, show_progress=False, on_progress=None)
            name = writer.finish() if writer.n_documents else ""
        except BaseException:
            writer.abort()
            raise
        if not name:
            writer.abort()
        return {
            "segment": [name],
            "chunks": [report.chunks_embedded],
            "skipped": [json.dumps([asdict(s) for s in report.skipped])],
        }
