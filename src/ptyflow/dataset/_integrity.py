"""Sealing a store (provenance record, then manifest last) and checking the seal.

``manifest.json`` maps every file's posix path relative to the store root to its SHA-256
and size; it and ``provenance.json`` leave themselves out. The manifest is written last,
so its presence marks a finished store: a crash before it leaves a store without one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ptyflow._files import write_text_atomic
from ptyflow.errors import DatasetError
from ptyflow.provenance import (
    HASH_EXCLUDES,
    MANIFEST_NAME,
    RECORD_NAME,
    ArtifactRef,
    ManifestEntry,
    ProvenanceRecord,
    build_manifest,
    finish_record,
    tree_hash,
    write_record,
)

__all__ = [
    "read_json",
    "record_hash_problem",
    "seal_store",
    "stray_partial_files",
    "write_json_atomic",
]


def write_json_atomic(path: Path, obj: Any) -> None:
    """Write ``obj`` as JSON to a temp file beside ``path``, then rename it over ``path``."""
    write_text_atomic(path, json.dumps(obj, indent=1, sort_keys=True))


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


def seal_store(store: Path, record: ProvenanceRecord | None, recorded_path: Path) -> str:
    """Checksum every file, write the finished provenance record, then the manifest.

    ``recorded_path`` is where the record says the store lives (its final place, when it
    is sealed beside it before replacing an old one). Returns the store's content hash
    (the tree hash of the manifest).
    """
    manifest = build_manifest(store, exclude=HASH_EXCLUDES)
    digest = tree_hash(manifest)
    if record is not None:
        output = ArtifactRef(path=str(recorded_path.resolve()), content_hash=digest)
        write_record(finish_record(record, outputs=[output]), store / RECORD_NAME)
    write_json_atomic(store / MANIFEST_NAME, manifest)
    return digest


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
