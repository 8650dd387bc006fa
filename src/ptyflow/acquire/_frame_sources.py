"""What ``ptyflow emulate`` streams: a store's frames, an ``.npy`` stack or synthetic
sparse diffraction, by frame id, with the scan they belong to."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ptyflow.errors import PtyflowError

__all__ = ["FrameSource", "synthetic_frames"]

_DETECTOR_DTYPES = ("uint8", "uint16", "uint32")


class _StoreFrames:
    """A store's frames by flat index, read one at a time (the emulator caches blobs)."""

    def __init__(self, path: Path) -> None:
        from ptyflow.dataset import open_dataset

        self._ds = open_dataset(path)
        self.dtype = self._ds.dtype
        self.shape = (self._ds.frames_received.size, *self._ds.frame_shape)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, k: int) -> NDArray[Any]:
        return self._ds.read_frame(k)


@dataclass(frozen=True)
class FrameSource:
    """Frames by frame id ``(n, ky, kx)``, cycled if the series is longer; ``missing``:
    frame ids never to send (positions a source store never received)."""

    frames: Any  # NDArray, or anything indexable by frame id with .dtype and .shape
    scan_shape: tuple[int, int]
    n_time: int = 1
    missing: frozenset[int] = frozenset()

    @classmethod
    def from_store(cls, path: Path) -> FrameSource:
        frames = _StoreFrames(path)
        nav, frame_shape = frames._ds.nav_shape, frames._ds.frame_shape
        if len(frame_shape) != 2:
            raise PtyflowError(f"{path}: holds virtual-detector signals, not frames")
        _detector_frames(frames.dtype, str(path))
        missing = np.flatnonzero(~frames._ds.frames_received.reshape(-1))
        n_time = nav[0] if len(nav) == 3 else 1
        return cls(frames, (nav[-2], nav[-1]), n_time, frozenset(missing.tolist()))

    @classmethod
    def from_npy(cls, path: Path, scan_shape: tuple[int, int] | None) -> FrameSource:
        data = np.load(path, mmap_mode="r")
        if data.ndim == 4:
            scan_shape = scan_shape or (data.shape[0], data.shape[1])
            data = data.reshape(-1, *data.shape[2:])
        if data.ndim != 3:
            raise PtyflowError(
                f"{path}: expected (n, ky, kx) or (ny, nx, ky, kx), got {data.shape}"
            )
        shape = scan_shape or (1, len(data))
        if len(data) % (shape[0] * shape[1]):
            raise PtyflowError(f"{path}: {len(data)} frames do not fill {shape} scans")
        _detector_frames(data.dtype, str(path))
        return cls(data, shape, len(data) // (shape[0] * shape[1]))


def _detector_frames(dtype: np.dtype[Any], where: str) -> None:
    if dtype.name not in _DETECTOR_DTYPES:
        raise PtyflowError(f"{where}: dtype {dtype}; a detector sends one of {_DETECTOR_DTYPES}")


def synthetic_frames(
    n_distinct: int, frame_shape: tuple[int, int], dtype: str = "uint16", seed: int = 0
) -> NDArray[Any]:
    """``n_distinct`` sparse diffraction frames: a bright disk with Poisson noise, shifting."""
    rng = np.random.default_rng(seed)
    ky, kx = np.indices(frame_shape)
    cy, cx = frame_shape[0] // 2, frame_shape[1] // 2
    out = np.empty((n_distinct, *frame_shape), dtype=dtype)
    for i in range(n_distinct):
        dy, dx = rng.normal(0, 1.5, 2)
        disk = np.hypot(ky - cy - dy, kx - cx - dx) <= frame_shape[0] / 8
        out[i] = rng.poisson(np.where(disk, 2.0, 0.02))
    return out
