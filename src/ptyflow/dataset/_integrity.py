"""Checking a store's seal (sealing itself is ``ptyflow.provenance.seal_directory``).

``manifest.json`` maps every file's posix path relative to the store root to its SHA-256
and size; it and ``provenance.json`` leave themselves out. The manifest is written last,
so its presence marks a finished store: a crash before it leaves a store without one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ptyflow.errors import DatasetError
from ptyflow.provenance import (
    RECORD_NAME,
    ManifestEntry,
    tree_hash,
)

__all__ = [
    "read_json",
    "record_hash_problem",
    "stray_partial_files",
]


def read_json(path: Path) -> Any | None:
    """The parsed JSON file at ``path``, None if absent; DatasetError naming it if corrupt."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as err:
        raise DatasetError(f"{path}: cannot read: {err}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise DatasetError(f"{path}: not valid JSON: {err}") from None


def record_hash_problem(
    store: Path, record: dict[str, Any], manifest: dict[str, ManifestEntry]
) -> str | None:
    """Why the record's output hash disagrees with the manifest's tree hash, or None."""
    hashes = [o.get("content_hash") for o in record.get("outputs", []) if isinstance(o, dict)]
    digest = tree_hash(manifest)
    if digest in hashes:
        return None
    return (
        f"{store / RECORD_NAME}: output content hash {', '.join(map(str, hashes))} "
        f"does not match the manifest's tree hash {digest}"
    )


def stray_partial_files(store: Path) -> list[Path]:
    """Temp files of interrupted atomic writes (zarr's and ours): signs of a crash."""
    return sorted(store.rglob("*.partial"))
