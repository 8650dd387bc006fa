"""Recovering a store whose writer crashed: keep exactly the frames whose chunks decode.

The writer persists ``frames_received`` shard by shard, after each shard's file is on
disk, so a store left ``acquiring`` knows which frames it stored. Recovery trusts those
marks only after decoding every chunk that holds a marked frame (each carries a CRC-32C),
recomputes the live images from the intact frames, and seals the store as ``incomplete``
(``complete`` if every frame survived) with a provenance record of the recovery.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import zarr
from numpy.typing import NDArray

from ptyflow.dataset._close_store import close_store
from ptyflow.dataset._integrity import stray_partial_files
from ptyflow.dataset._layout import DATA, get_array
from ptyflow.dataset._live import LiveImages
from ptyflow.dataset._lock import OutputLock
from ptyflow.dataset._metadata import DatasetState
from ptyflow.dataset._reader import Dataset, open_dataset
from ptyflow.errors import DatasetError, ProvenanceError
from ptyflow.provenance import RECORD_NAME, ArtifactRef, content_hash, read_record, start_record

__all__ = ["Recovery", "recover_dataset"]

log = logging.getLogger("ptyflow.dataset")


@dataclass(frozen=True)
class Recovery:
    """What :func:`recover_dataset` did."""

    path: Path
    state: DatasetState
    frames_kept: int
    frames_total: int
    damaged: tuple[str, ...]  # one message per chunk that failed to decode (frames dropped)
    content_hash: str


def _salvage(
    ds: Dataset, nav: tuple[slice, ...], received: NDArray[np.bool_], damaged: list[str]
) -> NDArray[Any]:
    """Shard ``nav`` read chunk by chunk: the chunks that fail to decode are dropped (their
    frames unmarked in ``received``, a message each in ``damaged``) and left at the fill value."""
    block = np.full(
        tuple(s.stop - s.start for s in nav) + ds.frame_shape, ds.data_array.fill_value, ds.dtype
    )
    for key in ds.geometry.chunk_keys(nav):
        region = ds.geometry.chunk_slices(key)
        local = tuple(
            slice(r.start - n.start, r.stop - n.start) for r, n in zip(region, nav, strict=True)
        )
        try:
            block[local] = ds.read_block(region)
        except DatasetError as err:
            received[region] = False
            damaged.append(str(err))
    return block


def _started_record(path: Path) -> dict[str, Any] | None:
    """The record the crashed writer wrote when it started (its activity, config, command),
    kept whole in the recovery's record; None if there is none or it is unreadable."""
    if not (path / RECORD_NAME).is_file():
        return None
    try:
        return read_record(path).model_dump(mode="json")
    except ProvenanceError as err:
        log.warning("%s: the writer's started record is not kept: %s", path, err)
        return None


def recover_dataset(path: str | Path) -> Recovery:
    """Seal the crashed (``acquiring``) store at ``path`` with the frames that survived.

    Raises DatasetError if the store is not ``acquiring``, its writer still holds its lock,
    or it cannot be opened at all.
    """
    path = Path(path)
    lock = OutputLock.acquire(path)  # refuses while a writer is still running
    try:
        return _recover(path)
    finally:
        lock.release()


def _recover(path: Path) -> Recovery:
    ds = open_dataset(path)
    if ds.state is not DatasetState.ACQUIRING:
        raise DatasetError(
            f"{path}: state '{ds.state.value}'; only a store left 'acquiring' by a crashed "
            "writer can be recovered"
        )
    source = ArtifactRef(path=str(path.resolve()), content_hash=content_hash(path))
    started = _started_record(path)
    for leftover in stray_partial_files(path):  # temp files of writes the crash cut short
        leftover.unlink()
    received = ds.frames_received.copy()
    live = LiveImages(ds.metadata, ds.masks)
    group = zarr.open_group(path, mode="r+")
    data = get_array(group, DATA).with_config({"write_empty_chunks": True})
    damaged: list[str] = []
    geometry = ds.geometry
    for key in np.ndindex(*geometry.shard_grid):
        nav = geometry.shard_slices(key)
        if not received[nav].any():
            continue
        try:
            block = ds.read_block(nav)
        except DatasetError:
            block = _salvage(ds, nav, received, damaged)
            data[nav] = block  # rewritten whole: its damaged chunks now hold the fill value
        live.update(nav, block, received[nav])
    state = DatasetState.COMPLETE if received.all() else DatasetState.INCOMPLETE
    record = start_record(
        "recover",
        config={
            "recovered_state": DatasetState.ACQUIRING.value,
            "damaged_chunks": damaged,
            "started_record": started,
        },
        inputs=[source],
    )
    digest = close_store(path, group, ds.metadata.with_state(state), received, live.images, record)
    return Recovery(path, state, int(received.sum()), received.size, tuple(damaged), digest)
