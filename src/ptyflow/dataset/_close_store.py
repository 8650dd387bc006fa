"""Writing a store's metadata, and closing a store: its last arrays, metadata, then the seal.

Shared by the writer (:mod:`._writer`), store creation (:mod:`._store`) and recovery of a
crashed writer's store (:mod:`._recover`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import zarr
from numpy.typing import NDArray

from ptyflow.dataset._layout import ATTRS_KEY, FRAMES_RECEIVED, LIVE, get_array
from ptyflow.dataset._metadata import DatasetMetadata
from ptyflow.provenance import ManifestEntry, ProvenanceRecord, seal_directory

__all__ = ["close_store", "write_metadata"]


def write_metadata(group: zarr.Group, metadata: DatasetMetadata) -> None:
    """Store ``metadata`` as the group's ``ptyflow`` attribute.

    zarr's LocalStore writes ``zarr.json`` to a temp file and renames it, so a crash leaves
    the old or the new metadata, never half of it.
    """
    group.update_attributes({ATTRS_KEY: metadata.model_dump(mode="json")})


def close_store(
    path: Path,
    group: zarr.Group,
    metadata: DatasetMetadata,
    received: NDArray[np.bool_] | None,
    images: dict[str, NDArray[np.float32]],
    record: ProvenanceRecord | None,
    recorded_path: Path | None = None,
    known: Mapping[str, ManifestEntry] | None = None,
) -> str:
    """Write ``frames_received`` (None: it is on disk already), the live images, then
    ``metadata`` (its final state), then seal the store (§7 of the spec) as living at
    ``recorded_path`` (default ``path``); return its content hash. ``known``: manifest
    entries of files hashed as they were written, so sealing reads only the rest."""
    if received is not None:
        get_array(group, FRAMES_RECEIVED)[...] = received
    for name, image in images.items():
        get_array(group, f"{LIVE}/{name}")[...] = image
    write_metadata(group, metadata)
    return seal_directory(path, record, recorded_path, known)
