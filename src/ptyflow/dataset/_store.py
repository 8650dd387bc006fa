"""Creating a store: everything is checked before anything on disk changes."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import zarr
from numpy.typing import DTypeLike, NDArray
from zarr.abc.codec import BytesBytesCodec

from ptyflow.dataset._group import store_attrs
from ptyflow.dataset._layout import (
    DATA,
    MASKS,
    array_attributes,
    array_specs,
    data_dtype_problem,
    default_codec,
    get_array,
    plan_geometry,
)
from ptyflow.dataset._live import LiveImages
from ptyflow.dataset._metadata import DatasetMetadata, DatasetState
from ptyflow.dataset._writer import DatasetWriter, write_metadata
from ptyflow.errors import DatasetError
from ptyflow.provenance import ProvenanceRecord

__all__ = ["create_dataset"]


def _clear_path(path: Path, overwrite: bool) -> None:
    """Make room for a new store at ``path``, deleting only an old ptyflow store."""
    if not path.exists() or (path.is_dir() and not any(path.iterdir())):
        return
    if not overwrite:
        raise DatasetError(
            f"{path}: already exists; pass overwrite=True (--overwrite) to replace a store"
        )
    try:
        store_attrs(path)
    except DatasetError as err:
        raise DatasetError(f"refusing to overwrite {path}: {err}") from None
    shutil.rmtree(path)


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
) -> DatasetWriter:
    """Create an empty store at ``path`` (state ``acquiring``) and return its writer.

    ``shard_nav``/``chunk_nav``: scan positions ``(y, x)`` per shard file and per compressed
    chunk (clipped to the scan); each holds whole frames. ``codec`` compresses ``data``
    (default Blosc zstd level 1 with bitshuffle). ``masks`` ``(n_masks, ky, kx)`` are
    required for, and only for, ``compression.kind == "virtual"``. ``record`` is finished
    with the store's content hash and written as ``provenance.json`` on close.

    Everything is checked before anything on disk changes; an existing store is replaced
    only with ``overwrite=True``, and a directory that is not a ptyflow store never is.
    """
    path = Path(path)
    dtype = np.dtype(dtype)
    metadata = metadata.model_copy(update={"state": DatasetState.ACQUIRING})
    geometry = plan_geometry(metadata.nav_shape, shard_nav, chunk_nav)
    if (problem := data_dtype_problem(metadata, dtype)) is not None:
        raise DatasetError(f"{path}: {problem}")
    masks = _checked_masks(metadata, masks)
    live = LiveImages(metadata, masks)
    _clear_path(path, overwrite)

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
                compressors=codec or default_codec(),
                fill_value=np.nan if dtype.kind == "f" else 0,
                dimension_names=spec.dims,
                attributes=attrs,
            )
        else:  # small arrays: one chunk per scan (per time step of a series), masks whole
            lead = (1,) * (len(spec.shape) - 2)
            group.create_array(
                name,
                shape=spec.shape,
                dtype=spec.dtype,
                chunks=spec.shape if name == MASKS else lead + spec.shape[-2:],
                fill_value=False if spec.dtype == np.dtype(bool) else np.nan,
                dimension_names=spec.dims,
                attributes=attrs,
            )
    if masks is not None:
        get_array(group, MASKS)[...] = masks
    return DatasetWriter(path, group, metadata, geometry, live, record)
