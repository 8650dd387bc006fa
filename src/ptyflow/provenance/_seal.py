"""Sealing a directory artifact (a dataset store, a ground truth): one routine for all.

Every file is checksummed into ``manifest.json``; the record, finished with the tree hash
of that manifest, goes into ``provenance.json``; the manifest is written **last**, so its
presence marks a finished artifact (transfer moves nothing without one). Every file is
fsynced before the record and the manifest are written (themselves fsynced), so a power
cut cannot leave a manifest vouching for files that did not reach the disk.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from ptyflow._files import sync_tree, write_text_atomic
from ptyflow.provenance._hashing import ManifestEntry, build_manifest, tree_hash
from ptyflow.provenance._record import (
    HASH_EXCLUDES,
    MANIFEST_NAME,
    RECORD_NAME,
    ArtifactRef,
    ProvenanceRecord,
    finish_record,
    write_record,
)

__all__ = ["seal_directory"]


def seal_directory(
    root: Path,
    record: ProvenanceRecord | None,
    recorded_path: Path | None = None,
    known: Mapping[str, ManifestEntry] | None = None,
) -> str:
    """Write the manifest and the finished record of the directory ``root``; return its
    content hash.

    ``recorded_path`` is where the record says the artifact lives (default ``root``): its
    final place, when it is sealed in a temp directory and renamed into place afterwards.
    ``known``: manifest entries of files hashed as they were written (not read again).
    """
    manifest = build_manifest(root, exclude=HASH_EXCLUDES, known=known)
    digest = tree_hash(manifest)
    sync_tree(root, manifest)  # on disk before the manifest says the artifact is finished
    if record is not None:
        output = ArtifactRef(path=str((recorded_path or root).resolve()), content_hash=digest)
        write_record(finish_record(record, outputs=[output]), root / RECORD_NAME)
    write_text_atomic(root / MANIFEST_NAME, json.dumps(manifest, indent=1, sort_keys=True))
    return digest
