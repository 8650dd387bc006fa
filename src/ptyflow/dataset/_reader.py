"""Reading a store: a read-only view that checks the contract once, then reads shard by shard."""

from __future__ import annotations

import math
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import zarr
from numpy.typing import NDArray

from ptyflow.dataset._group import array_problems, read_metadata
from ptyflow.dataset._integrity import read_json
from ptyflow.dataset._layout import (
    DATA,
    FRAMES_RECEIVED,
    LIVE,
    LIVE_IMAGES,
    MASKS,
    Geometry,
    get_array,
)
from ptyflow.dataset._metadata import DatasetMetadata, DatasetState
from ptyflow.errors import DatasetError
from ptyflow.provenance import MANIFEST_NAME, RECORD_NAME, ManifestEntry

__all__ = ["Dataset", "open_dataset"]


def open_dataset(path: str | Path) -> Dataset:
    """Open the store at ``path`` read-only, after checking it against the spec.

    Raises DatasetError naming the file and the problem (no store, corrupt JSON, invalid
    metadata, missing or malformed arrays) and SchemaVersionError for another schema version.
    A store still ``acquiring`` opens too (its writer may be running, or crashed).
    """
    path = Path(path)
    metadata = read_metadata(path)
    group = zarr.open_group(path, mode="r")
    if problems := array_problems(path, group, metadata):
        raise DatasetError("\n".join(problems))
    dataset = Dataset(path, group, metadata)
    dataset.frames_received  # noqa: B018  # read now: a corrupt one must fail here, by name
    return dataset


class Dataset:
    """A read-only view of a store; frames are read a shard at a time, never all at once."""

    def __init__(self, path: Path, group: zarr.Group, metadata: DatasetMetadata) -> None:
        self.path = path
        self.metadata = metadata
        self._group = group
        self._data = get_array(group, DATA)

    def __repr__(self) -> str:
        return f"Dataset({str(self.path)!r}, state={self.state.value}, nav={self.nav_shape})"

    @property
    def state(self) -> DatasetState:
        return self.metadata.state

    @property
    def nav_shape(self) -> tuple[int, ...]:
        """Scan positions: ``(ny, nx)`` or ``(t, ny, nx)``."""
        return self.metadata.nav_shape

    @property
    def frame_shape(self) -> tuple[int, ...]:
        """One stored frame: ``(ky, kx)`` (maybe binned) or ``(n_masks,)``."""
        return self.metadata.frame_shape

    @property
    def dtype(self) -> np.dtype[Any]:
        return np.dtype(self._data.dtype)

    @property
    def geometry(self) -> Geometry:
        """Shard and chunk shapes over the navigation axes, as stored."""
        n = len(self.nav_shape)
        shards = self._data.shards or self._data.chunks
        return Geometry(self.nav_shape, shards[:n], self._data.chunks[:n])

    @property
    def data_array(self) -> zarr.Array[Any]:
        """The ``data`` zarr array itself, for codec details and custom slicing."""
        return self._data

    def _read_whole(self, name: str, dtype: type[Any]) -> NDArray[Any]:
        """A small array read whole; a damaged one is a DatasetError naming it."""
        try:
            return np.asarray(get_array(self._group, name)[...], dtype=dtype)
        except Exception as err:  # whatever zarr or the codec raises for a damaged chunk
            raise DatasetError(
                f"{self.path / name}: cannot read (damaged chunk? `ptyflow info --verify` "
                f"names changed files): {err}"
            ) from None

    @cached_property
    def frames_received(self) -> NDArray[np.bool_]:
        """True where the frame of a scan position arrived (nav shape)."""
        return self._read_whole(FRAMES_RECEIVED, bool)

    @property
    def n_missing(self) -> int:
        return int(self.frames_received.size - self.frames_received.sum())

    def missing_indices(self) -> list[tuple[int, ...]]:
        """Navigation indices of the frames that never arrived, in raster order."""
        return [tuple(int(i) for i in idx) for idx in np.argwhere(~self.frames_received)]

    @property
    def compression_ratio(self) -> float:
        """Bytes of the received frames over the bytes of ``data``'s chunk files on disk."""
        stored = sum(
            f.stat().st_size
            for f in (self.path / DATA).rglob("*")
            if f.is_file() and f.name != "zarr.json"
        )
        raw = int(self.frames_received.sum()) * math.prod(self.frame_shape) * self.dtype.itemsize
        return raw / stored if stored else math.nan

    @property
    def live_images(self) -> dict[str, NDArray[np.float32]]:
        """Live images ``bf``, ``adf`` [counts], ``com_y``, ``com_x`` [1/Å]; NaN if missing."""
        return {name: self._read_whole(f"{LIVE}/{name}", np.float32) for name in LIVE_IMAGES}

    @property
    def masks(self) -> NDArray[np.float32] | None:
        """The virtual-detector masks ``(n_masks, ky, kx)``, or None for frame data."""
        if MASKS not in self._group:
            return None
        return self._read_whole(MASKS, np.float32)

    @property
    def manifest(self) -> dict[str, ManifestEntry] | None:
        """``manifest.json``: relative path → ``{"sha256", "size_bytes"}``; None if absent."""
        return read_json(self.path / MANIFEST_NAME)

    @property
    def provenance(self) -> dict[str, Any] | None:
        """The provenance record (``provenance.json``) as a dict, or None if absent."""
        return read_json(self.path / RECORD_NAME)

    def shard_file(self, key: tuple[int, ...]) -> Path:
        """The file of ``data``'s shard ``key`` (navigation shard coordinates)."""
        coords = (*key, *(0,) * len(self.frame_shape))  # frames are never split
        return self.path / DATA / self._data.metadata.encode_chunk_key(coords)

    def missing_shard_files(self, nav: tuple[slice, ...] | None = None) -> list[Path]:
        """Shard files of ``data`` that hold received frames (in ``nav``) but do not exist.

        The writer writes every shard it stores, even one equal to the fill value, so a
        missing file under frames marked received means the store lost it.
        """
        geometry = self.geometry
        nav = nav or tuple(slice(0, n) for n in self.nav_shape)
        return [
            self.shard_file(key)
            for key in geometry.shard_keys(nav)
            if self.frames_received[_intersect(geometry.shard_slices(key), nav)].any()
            and not self.shard_file(key).is_file()
        ]

    def iter_chunks(self) -> Iterator[tuple[tuple[slice, ...], NDArray[Any], NDArray[np.bool_]]]:
        """Yield ``(nav_slices, block, received)`` one shard at a time, in raster order.

        ``block`` is ``data[nav_slices]``; ``received`` tells which of its frames are real
        (the others hold the fill value). Shards with no received frame are skipped.
        """
        geometry = self.geometry
        for key in np.ndindex(*geometry.shard_grid):
            nav = geometry.shard_slices(key)
            received = self.frames_received[nav]
            if received.any():
                yield nav, self.read_block(nav), received

    def iter_frames(self) -> Iterator[tuple[tuple[int, ...], NDArray[Any]]]:
        """Yield ``(nav_index, frame)`` for every received frame, shard by shard.

        Missing frames are never yielded. Order: shards in raster order, frames in raster
        order within each shard.
        """
        for nav, block, received in self.iter_chunks():
            for local in np.argwhere(received):
                index = tuple(int(s.start + i) for s, i in zip(nav, local, strict=True))
                yield index, block[tuple(local)]

    def read_frame(self, index: int | tuple[int, ...]) -> NDArray[Any]:
        """The frame at a navigation index tuple (or flat raster index).

        Raises IndexError outside the scan and DatasetError for a frame never received.
        """
        if isinstance(index, int | np.integer):
            if not 0 <= index < self.frames_received.size:
                raise IndexError(f"frame {index} outside the scan {self.nav_shape}")
            index = tuple(int(i) for i in np.unravel_index(index, self.nav_shape))
        nav = tuple(int(i) for i in index)
        if len(nav) != len(self.nav_shape) or not all(
            0 <= i < n for i, n in zip(nav, self.nav_shape, strict=True)
        ):
            raise IndexError(f"frame {nav} outside the scan {self.nav_shape}")
        if not self.frames_received[nav]:
            raise DatasetError(f"{self.path}: frame {nav} was not received")
        return self.read_block(tuple(slice(i, i + 1) for i in nav)).reshape(self.frame_shape)

    def read_block(self, nav: tuple[slice, ...]) -> NDArray[Any]:
        """``data[nav]`` for navigation slices ``nav``, whether received or not.

        A missing shard file under received frames, or a chunk that fails to decode (its
        CRC-32C), raises DatasetError naming it; neither is ever read as zeros.
        """
        if missing := self.missing_shard_files(nav):
            raise DatasetError(
                f"{missing[0]}: shard file missing, but frames_received marks "
                f"{'its frames' if len(missing) == 1 else f'frames of {len(missing)} shards'} "
                "as received"
            )
        try:
            return np.asarray(self._data[nav])
        except Exception as err:
            raise DatasetError(self._damage(nav, err)) from None

    def _damage(self, nav: tuple[slice, ...], err: Exception) -> str:
        """Which chunk of ``nav`` fails to read: its shard file, chunk index and scan region."""
        geometry = self.geometry
        per_shard = tuple(
            s // c for s, c in zip(geometry.shard_nav, geometry.chunk_nav, strict=True)
        )
        for key in geometry.chunk_keys(nav):
            region = geometry.chunk_slices(key)
            try:
                self._data[region]
            except Exception as chunk_err:
                shard = tuple(k // p for k, p in zip(key, per_shard, strict=True))
                inner = tuple(k % p for k, p in zip(key, per_shard, strict=True))
                return (
                    f"{self.shard_file(shard)}: chunk {inner} of the shard (scan positions "
                    f"{_where(region)}) is damaged: {chunk_err}"
                )
        return f"{self.path / DATA}: cannot read frames [{_where(nav)}]: {err}"


def _where(nav: tuple[slice, ...]) -> str:
    return ", ".join(f"{s.start}:{s.stop}" for s in nav)


def _intersect(a: tuple[slice, ...], b: tuple[slice, ...]) -> tuple[slice, ...]:
    return tuple(
        slice(max(x.start, y.start), min(x.stop, y.stop)) for x, y in zip(a, b, strict=True)
    )
