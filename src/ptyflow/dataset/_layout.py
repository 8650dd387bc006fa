"""Names, chunk/shard geometry and per-axis attributes of the arrays in a store.

Everything here follows ``docs/dataset-store.md``; writer, reader and validator share it so
the three cannot drift apart.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import zarr
from zarr.abc.codec import BytesBytesCodec
from zarr.codecs import BloscCodec, Crc32cCodec

from ptyflow.dataset._metadata import DatasetMetadata
from ptyflow.errors import DatasetError

__all__ = [
    "ATTRS_KEY",
    "DATA",
    "FRAMES_RECEIVED",
    "LIVE",
    "LIVE_IMAGES",
    "MASKS",
    "RESERVE",
    "ArraySpec",
    "Geometry",
    "array_attributes",
    "array_specs",
    "close_reserve_bytes",
    "codec_chain",
    "data_dtype_problem",
    "default_codec",
    "get_array",
    "plan_geometry",
]

ATTRS_KEY = "ptyflow"  # every attribute ptyflow writes lives under this one key
DATA = "data"
FRAMES_RECEIVED = "frames_received"
#: Space held back while acquiring, freed to close the store on a full disk; a temp file.
RESERVE = ".close-reserve.partial"
MASKS = "masks"
LIVE = "live"  # the group holding the live (quick-look) images
#: The live images (name → units, meaning); each is the array ``live/<name>``.
LIVE_IMAGES: dict[str, tuple[str, str]] = {
    "bf": ("counts", "bright-field image: counts inside the BF disk"),
    "adf": ("counts", "annular dark-field image: counts outside 1.25× the BF disk"),
    "com_y": ("1/Å", "centre of mass ky of each frame, detector axes"),
    "com_x": ("1/Å", "centre of mass kx of each frame, detector axes"),
}


def default_codec(cname: Literal["zstd", "lz4"] = "zstd") -> BloscCodec:
    """Blosc level 1 with bitshuffle. ``zstd`` (the default): ~12-30× on sparse diffraction
    data at ~0.4-0.6 GB/s per core; ``lz4`` (what detectors stream, bslz4): 3-4× faster at
    55-65 % of that ratio (``benchmarks/acquire_write.py``)."""
    return BloscCodec(cname=cname, clevel=1, shuffle="bitshuffle")


def codec_chain(codec: BytesBytesCodec | None = None) -> tuple[BytesBytesCodec, ...]:
    """``codec`` (default :func:`default_codec`) then a CRC-32C checksum of each chunk.

    Blosc has no checksum of its own, so a flipped byte could decode to garbage; with
    ``crc32c`` last in the chain a damaged chunk fails to read instead.
    """
    return (codec or default_codec(), Crc32cCodec())


def get_array(group: zarr.Group, name: str) -> zarr.Array[Any]:
    """The array at ``name`` in ``group``; DatasetError if it is a group instead."""
    node = group[name]
    if not isinstance(node, zarr.Array):
        raise DatasetError(f"{group.store_path}/{name}: expected an array, found a group")
    return node


@dataclass(frozen=True)
class Geometry:
    """Chunk and shard shapes over the navigation axes (frame axes are never split)."""

    nav_shape: tuple[int, ...]
    shard_nav: tuple[int, ...]  # one shard = one file
    chunk_nav: tuple[int, ...]  # compressed unit inside a shard

    @property
    def shard_grid(self) -> tuple[int, ...]:
        """Number of shards along each navigation axis."""
        return tuple(math.ceil(n / s) for n, s in zip(self.nav_shape, self.shard_nav, strict=True))

    @property
    def chunk_grid(self) -> tuple[int, ...]:
        """Number of chunks along each navigation axis."""
        return tuple(math.ceil(n / c) for n, c in zip(self.nav_shape, self.chunk_nav, strict=True))

    def shard_slices(self, key: tuple[int, ...]) -> tuple[slice, ...]:
        """Navigation slices of shard ``key``, clipped to the scan."""
        return _block_slices(key, self.shard_nav, self.nav_shape)

    def shard_keys(self, nav: tuple[slice, ...]) -> list[tuple[int, ...]]:
        """Keys of the shards that overlap the navigation region ``nav``."""
        return _block_keys(nav, self.shard_nav)

    def chunk_keys(self, nav: tuple[slice, ...]) -> list[tuple[int, ...]]:
        """Keys (over the whole scan) of the chunks that overlap ``nav``."""
        return _block_keys(nav, self.chunk_nav)

    def chunk_slices(self, key: tuple[int, ...]) -> tuple[slice, ...]:
        """Navigation slices of chunk ``key``, clipped to the scan."""
        return _block_slices(key, self.chunk_nav, self.nav_shape)


def _block_slices(
    key: tuple[int, ...], block: tuple[int, ...], nav_shape: tuple[int, ...]
) -> tuple[slice, ...]:
    return tuple(
        slice(k * s, min((k + 1) * s, n)) for k, s, n in zip(key, block, nav_shape, strict=True)
    )


def _block_keys(nav: tuple[slice, ...], block: tuple[int, ...]) -> list[tuple[int, ...]]:
    ranges = (range(sl.start // b, -(-sl.stop // b)) for sl, b in zip(nav, block, strict=True))
    return list(itertools.product(*ranges))


def close_reserve_bytes(geometry: Geometry) -> int:
    """Disk space closing a store needs: ``frames_received`` and the live images rewritten
    (each chunk file takes at least one 4 KiB block, and a temp copy while it is
    replaced), the group metadata, the manifest (~150 B per file) and the record."""
    n_nav = math.prod(geometry.nav_shape)
    n_shards = math.prod(geometry.shard_grid)
    n_files = n_shards + len(LIVE_IMAGES) * math.prod(geometry.nav_shape[:-2])
    return 4096 * (n_files + 16) + 2 * 17 * n_nav + 300 * n_shards


def plan_geometry(
    nav_shape: tuple[int, ...], shard_nav: tuple[int, int], chunk_nav: tuple[int, int]
) -> Geometry:
    """Shards of ``shard_nav`` and chunks of ``chunk_nav`` scan positions, fitted to the scan.

    Both apply to ``(scan_y, scan_x)``; a leading time axis gets shards of one time step.
    A chunk larger than the scan shrinks to it, and a shard shrinks to the smallest multiple
    of the chunk covering the scan (zarr needs shards divisible by chunks).
    """
    for name, pair in (("shard_nav", shard_nav), ("chunk_nav", chunk_nav)):
        if len(pair) != 2 or any(int(v) < 1 for v in pair):
            raise ValueError(f"{name} must be two positive ints, got {pair!r}")
    if any(s % c for s, c in zip(shard_nav, chunk_nav, strict=True)):
        raise ValueError(f"shard_nav {shard_nav} must be a multiple of chunk_nav {chunk_nav}")
    chunk = tuple(min(c, n) for c, n in zip(chunk_nav, nav_shape[-2:], strict=True))
    shard = tuple(
        min(s, math.ceil(n / c) * c)
        for s, c, n in zip(shard_nav, chunk, nav_shape[-2:], strict=True)
    )
    lead = (1,) * (len(nav_shape) - 2)
    return Geometry(nav_shape, lead + shard, lead + chunk)


def _axes(metadata: DatasetMetadata) -> dict[str, dict[str, Any]]:
    """Every axis a store's arrays can have, keyed by dimension name."""
    scan = metadata.acquisition.scan
    grid = metadata.frame_grid
    step = scan.time_step_s  # without one, the time axis is just the scan index
    axes: dict[str, dict[str, Any]] = {
        "t": {"units": "s" if step else "index", "sampling": step or 1, "offset": 0.0},
        "scan_y": {"units": "Å", "sampling": scan.step_A[0], "offset": 0.0},
        "scan_x": {"units": "Å", "sampling": scan.step_A[1], "offset": 0.0},
        "mask": {"units": "index", "labels": list(metadata.compression.mask_names or ())},
    }
    for name, c in zip(("ky", "kx"), grid.center_px, strict=True):
        # offset = k of pixel 0, so that k = 0 falls on the centre pixel
        axes[name] = {
            "units": "1/Å",
            "sampling": grid.pixel_size_inv_A,
            "offset": -c * grid.pixel_size_inv_A,
        }
    return axes


def array_attributes(
    metadata: DatasetMetadata, dims: tuple[str, ...], *, units: str, description: str
) -> dict[str, Any]:
    """The ``ptyflow`` attribute of an array with dimensions ``dims``.

    Each axis entry: ``name`` (as in ``dimension_names``), ``units``, and ``sampling``
    (step per index) with ``offset`` (value at index 0), as in abTEM's axes metadata; the
    mask axis carries the mask ``labels`` instead.
    """
    known = _axes(metadata)
    axes = [{"name": d, **known[d]} for d in dims]
    return {ATTRS_KEY: {"description": description, "units": units, "axes": axes}}


@dataclass(frozen=True)
class ArraySpec:
    """What the spec requires of one array; ``dtype`` None means the writer's choice."""

    shape: tuple[int, ...]
    dtype: np.dtype[Any] | None
    dims: tuple[str, ...]
    units: str
    description: str


def array_specs(metadata: DatasetMetadata) -> dict[str, ArraySpec]:
    """Every array a store with ``metadata`` must hold, keyed by path inside the group."""
    nav, nav_dims = metadata.nav_shape, metadata.nav_dims
    virtual = metadata.compression.kind == "virtual"
    specs = {
        DATA: ArraySpec(
            nav + metadata.frame_shape,
            None,
            nav_dims + metadata.frame_dims,
            "counts",
            "per-frame mask signals Σ mask·frame" if virtual else "diffraction frames",
        ),
        FRAMES_RECEIVED: ArraySpec(
            nav, np.dtype(bool), nav_dims, "1", "True where the frame of a scan position arrived"
        ),
    }
    for name, (units, description) in LIVE_IMAGES.items():
        specs[f"{LIVE}/{name}"] = ArraySpec(nav, np.dtype(np.float32), nav_dims, units, description)
    if virtual:
        specs[MASKS] = ArraySpec(
            (metadata.compression.n_masks, *metadata.acquisition.detector.shape),
            np.dtype(np.float32),
            ("mask", "ky", "kx"),
            "1",
            "virtual-detector masks; data[..., i] = Σ masks[i] · frame",
        )
    return specs


def data_dtype_problem(metadata: DatasetMetadata, dtype: np.dtype[Any]) -> str | None:
    """Why ``dtype`` cannot hold this store's ``data``, or None if it can.

    Mask signals are sums of weighted counts, so they need floats; frames need integers
    or floats, and raw frames in integers must hold the detector's bit depth (a signed
    type gives up one bit to the sign).
    """
    kind = metadata.compression.kind
    if kind == "virtual":
        return None if dtype.kind == "f" else f"mask signals need a float dtype, got {dtype}"
    if dtype.kind not in "uif":
        return f"frames need an integer or float dtype, got {dtype}"
    bits = metadata.acquisition.detector.bit_depth
    if kind == "none" and dtype.kind in "ui":
        usable = np.iinfo(dtype).bits - (dtype.kind == "i")
        if usable < bits:
            return f"{dtype} cannot hold {bits}-bit detector counts"
    return None
