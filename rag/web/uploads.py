"""Files uploaded through the page: read out of Gradio's upload folder (and deleted there), and the message that
says which the library took and why it refused the others."""

from __future__ import annotations

import contextlib
from pathlib import Path

from ..library import UploadResult


def take_uploads(files: list[dict], upload_folder: str) -> tuple[list[tuple[str, bytes]], list[str]]:
    """The uploaded files (Gradio's file data) as (original name, bytes); each is deleted from Gradio's upload
    folder once read, whether the library takes it or not. Names that could not be read are returned apart."""
    pairs, unreadable = [], []
    root = Path(upload_folder).resolve()
    for file in files:
        path = Path(file["path"]).resolve()
        name = file.get("orig_name") or path.name
        try:
            pairs.append((name, path.read_bytes()))
        except OSError:
            unreadable.append(name)
        _discard_upload(path, root)
    return pairs, unreadable


def _discard_upload(path: Path, root: Path) -> None:
    """Delete an uploaded file and its folder (Gradio makes one per content hash), only inside Gradio's upload folder."""
    if root not in path.parents:
        return
    path.unlink(missing_ok=True)
    if path.parent != root:
        with contextlib.suppress(OSError):  # not empty: the same content is waiting under another name
            path.parent.rmdir()


def upload_message(result: UploadResult, unreadable: list[str]) -> str:
    """One line per file: added, or rejected with its reason."""
    lines = [f"added `{name}`" for name in result.added]
    lines += [f"rejected `{name}`: {reason}" for name, reason in result.rejected]
    lines += [f"rejected `{name}`: the upload was lost on the server; upload it again" for name in unreadable]
    return "\n\n".join(lines) or "Nothing to add."
