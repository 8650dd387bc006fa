"""Crash-safe file writes shared by every package that writes metadata."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

__all__ = ["write_text_atomic"]


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temp file beside ``path``, then rename it over ``path``.

    A crash leaves the old file or the new one, never half of either; the temp name ends in
    ``.partial`` so validators can spot what an interrupted write left behind.
    """
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.partial")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
