"""Crash-safe file writes shared by every package that writes metadata."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

__all__ = ["partial_path", "replace_directory", "write_text_atomic"]


def partial_path(path: Path) -> Path:
    """A fresh temp name beside ``path`` for writing it before a rename into place.

    The name ends in ``.partial`` so validators can spot what an interrupted write left.
    """
    return path.with_name(f".{path.name}.{uuid.uuid4().hex}.partial")


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temp file beside ``path``, then rename it over ``path``.

    A crash leaves the old file or the new one, never half of either.
    """
    tmp = partial_path(path)
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def replace_directory(new: Path, target: Path) -> None:
    """Put the finished directory ``new`` at ``target``, replacing what is there.

    Two renames: the old ``target`` to ``.NAME.<id>.replaced`` beside it, then ``new`` to
    ``target``; then the old one is deleted. A crash between the renames leaves no
    ``target`` but both directories beside it under their temp names (see
    docs/dataset-store.md, "Overwriting").
    """
    old = target.with_name(f".{target.name}.{uuid.uuid4().hex}.replaced")
    if target.exists():
        os.rename(target, old)
    os.rename(new, target)
    shutil.rmtree(old, ignore_errors=True)
