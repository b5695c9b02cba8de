"""Models exported to ONNX once per machine, into the cache, where onnxruntime runs them.

Shipped and packaged models are kept in their training format (safetensors, a sentence-transformers
folder); the export made from them is a derived file, like a compiled one: it is keyed by the model
files, the exporter's version and the torch and onnxruntime versions, so a changed model or runtime
exports again, and it is written aside and renamed into place, so a crash or a second process never
leaves a half-written export behind.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

from .files import cache_dir

log = logging.getLogger(__name__)


def exported(
    kind: str,
    model_path: str | Path,
    exporter_version: int,
    export: Callable[[Path], None],
    ready: str,
    inputs: tuple[str, ...] | None = None,
) -> Path:
    """The folder holding the export of `model_path`, made by `export(tmp_folder)` first if this machine has
    none yet; `ready` names the file an export writes last, whose presence means it is complete; `inputs`
    the files of the model folder the export is made from (default: all of them)."""
    model_path = Path(model_path)
    files = (
        sorted(model_path / name for name in inputs)
        if inputs
        else sorted(p for p in model_path.rglob("*") if p.is_file())
    )
    key = hashlib.sha1(
        json.dumps(
            [
                str(model_path.resolve()),
                exporter_version,
                version("torch"),
                version("onnxruntime"),
                [(str(p.relative_to(model_path)), p.stat().st_size, p.stat().st_mtime_ns) for p in files],
            ]
        ).encode()
    ).hexdigest()[:16]
    folder = cache_dir() / kind / f"{model_path.name}-{key}"
    if (folder / ready).is_file():
        return folder
    log.warning("exporting %s model %s to ONNX once, into %s", kind, model_path, folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent, prefix=".export-") as tmp:
        export(Path(tmp))
        os.chmod(tmp, 0o755)  # a shared cache is readable by everyone
        try:
            os.rename(tmp, folder)
        except OSError:  # another process exported it first
            if not (folder / ready).is_file():
                raise
        os.makedirs(tmp, exist_ok=True)  # for TemporaryDirectory's clean-up
    return folder


def optimise(raw: Path, target: Path) -> None:
    """Let onnxruntime optimise a graph once and keep the result (portable: no CPU-specific layouts); drop the raw one."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = str(target)
    onnxruntime.InferenceSession(str(raw), options, providers=["CPUExecutionProvider"])
    raw.unlink()
