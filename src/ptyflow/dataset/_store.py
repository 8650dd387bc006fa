"""Creating a store: everything is checked before anything on disk changes."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import zarr
from numpy.typing import DTypeLike, NDArray
from zarr.abc.codec import BytesBytesCodec

from ptyflow._files import partial_path, rename_durably
from ptyflow._signals import signals_deferred
from ptyflow.dataset._close_store import write_metadata
from ptyflow.dataset._group import store_attrs
from ptyflow.dataset._layout import (
    DATA,
    FRAMES_RECEIVED,
    MASKS,
    RESERVE,
    Geometry,
    array_attributes,
    array_specs,
    close_reserve_bytes,
    codec_chain,
    data_dtype_problem,
    get_array,
    plan_geometry,
)
from ptyflow.dataset._live import LiveImages
from ptyflow.dataset._lock import OutputLock
from ptyflow.dataset._metadata import DatasetMetadata, DatasetState
from ptyflow.dataset._writer import DatasetWriter
from ptyflow.errors import DatasetError
from ptyflow.provenance import RECORD_NAME, ProvenanceRecord, write_record

__all__ = ["create_dataset"]


def _replaces(path: Path, overwrite: bool) -> bool:
    """Whether a new store at ``path`` replaces an old one; only ever an old ptyflow store."""
    if not path.exists() or (path.is_dir() and not any(path.iterdir())):
        return False
    if not overwrite:
        raise DatasetError(
            f"{path}: already exists; pass overwrite=True (--overwrite) to replace a store"
        )
    try:
        store_attrs(path)
    except DatasetError as err:
        raise DatasetError(f"refusing to overwrite {path}: {err}") from None
    return True


def _checked_masks(
    metadata: DatasetMetadata, masks: NDArray[Any] | None
) -> NDArray[np.float32] | None:
    if metadata.compression.kind != "virtual":
        if masks is not None:
            raise DatasetError("masks are only stored for compression kind 'virtual'")
        return None
    expected = array_specs(metadata)[MASKS].shape
    if masks is None or np.shape(masks) != expected:
        got = None if masks is None else np.shape(masks)
        raise DatasetError(f"virtual-detector data need masks of shape {expected}, got {got}")
    checked = np.asarray(masks, dtype=np.float32)
    if not np.isfinite(checked).all():
        raise DatasetError("masks contain NaN or infinity")
    return checked


def create_dataset(
    path: str | Path,
    metadata: DatasetMetadata,
    *,
    dtype: DTypeLike,
    overwrite: bool = False,
    shard_nav: tuple[int, int] = (16, 16),
    chunk_nav: tuple[int, int] = (4, 4),
    codec: BytesBytesCodec | None = None,
    masks: NDArray[Any] | None = None,
    record: ProvenanceRecord | None = None,
    replace_on_close: bool = True,
) -> DatasetWriter:
    """Create an empty store at ``path`` (state ``acquiring``) and return its writer.

    ``shard_nav``/``chunk_nav``: scan positions ``(y, x)`` per shard file and per compressed
    chunk (clipped to the scan); each holds whole frames. ``codec`` compresses ``data``
    (default Blosc zstd level 1 with bitshuffle); every array's chunks carry a CRC-32C.
    ``masks`` ``(n_masks, ky, kx)`` are required for, and only for,
    ``compression.kind == "virtual"``. ``record`` is written as ``provenance.json`` at once
    (what was started, which ``recover`` keeps after a crash), then finished with the
    store's content hash and written again on close.

    Everything is checked before anything on disk changes; an existing store is replaced
    only with ``overwrite=True``, and a directory that is not a ptyflow store never is. A
    replacement is written beside the old store, which stays until the new one is sealed
    (:meth:`DatasetWriter.commit`; on close unless ``replace_on_close=False``). The writer
    holds a lock on ``path`` (``.NAME.lock`` beside it): a second writer gets DatasetError.
    """
    path = Path(path)
    dtype = np.dtype(dtype)
    metadata = metadata.model_copy(update={"state": DatasetState.ACQUIRING})
    geometry = plan_geometry(metadata.nav_shape, shard_nav, chunk_nav)
    if (problem := data_dtype_problem(metadata, dtype)) is not None:
        raise DatasetError(f"{path}: {problem}")
    masks = _checked_masks(metadata, masks)
    live = LiveImages(metadata, masks)
    lock = OutputLock.acquire(path)
    writer = None
    try:
        replacing = _replaces(path, overwrite)
        where = partial_path(path)  # built aside, so nobody sees a half-created store
        # Signals wait until the writer exists; one that arrived meanwhile then closes it.
        with signals_deferred():
            try:
                _build(where, metadata, geometry, dtype, codec, masks)
                if record is not None:  # what was started, for `recover` after a crash
                    write_record(record, where / RECORD_NAME)
                if not replacing:  # a new store: in place at once, for readers to follow
                    rename_durably(where, path)  # its entry survives a power cut
                    where = path
            except BaseException as err:
                if where != path:
                    shutil.rmtree(where, ignore_errors=True)
                if isinstance(err, OSError):  # disk full, read-only: nothing was left behind
                    raise DatasetError(f"{path}: cannot create the store: {err}") from err
                raise
            writer = DatasetWriter(
                where,
                zarr.open_group(where, mode="r+"),
                metadata,
                geometry,
                live,
                record,
                target=path,
                lock=lock,
                replace_on_close=replace_on_close,
            )
    except BaseException:
        if writer is not None:
            writer.abort()
        lock.release()
        raise
    return writer


def _build(
    path: Path,
    metadata: DatasetMetadata,
    geometry: Geometry,
    dtype: np.dtype[Any],
    codec: BytesBytesCodec | None,
    masks: NDArray[np.float32] | None,
) -> None:
    """Create the group and every array of the spec at ``path`` (state ``acquiring``)."""
    group = zarr.open_group(path, mode="w")
    write_metadata(group, metadata)
    frame = metadata.frame_shape
    for name, spec in array_specs(metadata).items():
        attrs = array_attributes(
            metadata, spec.dims, units=spec.units, description=spec.description
        )
        if name == DATA:
            group.create_array(
                name,
                shape=spec.shape,
                dtype=dtype,
                chunks=geometry.chunk_nav + frame,
                shards=geometry.shard_nav + frame,
                compressors=codec_chain(codec),
                fill_value=np.nan if dtype.kind == "f" else 0,
                dimension_names=spec.dims,
                attributes=attrs,
            )
        else:
            # frames_received is chunked like the shards, so the writer persists it shard by
            # shard; live images are small: one chunk per scan (per time step); masks whole.
            lead = (1,) * (len(spec.shape) - 2)
            if name == FRAMES_RECEIVED:
                chunks = geometry.shard_nav
            else:
                chunks = spec.shape if name == MASKS else lead + spec.shape[-2:]
            group.create_array(
                name,
                shape=spec.shape,
                dtype=spec.dtype,
                chunks=chunks,
                compressors=codec_chain(),
                fill_value=False if spec.dtype == np.dtype(bool) else np.nan,
                dimension_names=spec.dims,
                attributes=attrs,
            )
    if masks is not None:
        get_array(group, MASKS)[...] = masks
    # Held back so that a store can still be closed as 'failed' when the disk fills up.
    with open(path / RESERVE, "wb") as fh:
        os.posix_fallocate(fh.fileno(), 0, close_reserve_bytes(geometry))
