"""Frames from a store, chunk by chunk through ``ptyflow.dataset``: cached on the device
when they fit under the config's limit, otherwise streamed shard by shard with a read-ahead
thread. Missing frames (``frames_received`` false) are never used.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from ptyflow.dataset import Dataset
from ptyflow.errors import DatasetError

__all__ = ["FrameSource"]

#: (flat scan indices (B,), frames (B, …) or None where not asked for, their square roots
#: √max(frame, 0)): the roots serve the amplitude loss and the data error, so a cached
#: store takes them once, and the amplitude loss needs no frames.
Batch = tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]


def _flat(nav: tuple[slice, ...], received: NDArray[np.bool_], nx: int) -> NDArray[np.int64]:
    local = np.argwhere(received)
    return (local[:, 0] + nav[0].start) * nx + local[:, 1] + nav[1].start


def signal_counts(mean_frame: NDArray[np.float64]) -> float:
    """Mean counts per value over the values that hold 90% of the mean frame's counts: the
    dose where the signal is (the bright-field disk), not diluted by dark detector corners."""
    values = np.sort(np.clip(mean_frame.ravel(), 0, None))[::-1]
    cumulative = np.cumsum(values)
    if cumulative[-1] <= 0:
        return 0.0
    n = int(np.searchsorted(cumulative, 0.9 * cumulative[-1])) + 1
    return float(cumulative[n - 1] / n)


def _roots(frames: torch.Tensor) -> torch.Tensor:
    return frames.clamp(min=0).sqrt_()


class FrameSource:
    """The received frames of a 2-D scan as float32 tensors on ``device``."""

    def __init__(
        self,
        ds: Dataset,
        device: torch.device,
        cache_limit_bytes: int,
        prepare: Callable[[torch.Tensor], torch.Tensor],
    ) -> None:
        if len(ds.nav_shape) != 2:
            raise DatasetError(f"{ds.path}: reconstruct handles single scans, not series")
        if not ds.frames_received.any():
            raise DatasetError(f"{ds.path}: no frame was received")
        self._ds, self.device, self._prepare = ds, device, prepare
        self._nx = ds.nav_shape[1]
        self.indices = np.flatnonzero(ds.frames_received.ravel())
        # Frames and their roots, float32 each.
        frame_bytes = len(self.indices) * math.prod(ds.frame_shape) * 4
        self.cached = 2 * frame_bytes <= cache_limit_bytes
        self._frames: torch.Tensor | None = None
        self._roots: torch.Tensor | None = None
        frame_sum = np.zeros(ds.frame_shape, np.float64)
        if self.cached:
            frames = torch.empty((len(self.indices), *ds.frame_shape), dtype=torch.float32)
            row = 0
            order = []
            for nav, block, received in ds.iter_chunks():
                chunk = torch.from_numpy(np.asarray(block[received], dtype=np.float32))
                frames[row : row + len(chunk)] = chunk
                order.append(_flat(nav, received, self._nx))
                row += len(chunk)
            # iter_chunks goes shard by shard: sort into raster order.
            sort = np.argsort(np.concatenate(order), kind="stable")
            frames = frames[torch.from_numpy(sort)]
            frame_sum = frames.sum(dim=0, dtype=torch.float64).numpy()
            self._frames = prepare(frames).to(device)
            self._roots = _roots(self._frames)
            self._flat_indices = torch.from_numpy(self.indices).to(device)
        else:
            for _, block, received in ds.iter_chunks():
                frame_sum += np.asarray(block[received], dtype=np.float64).sum(axis=0)
        #: Counts per value where the signal is: chooses the default loss.
        self.signal_counts = signal_counts(frame_sum / len(self.indices))

    def batches(
        self, rng: np.random.Generator, batch_size: int, frames: bool = True
    ) -> Iterator[Batch]:
        """One pass over every received frame in a seeded random order; without ``frames``
        cached batches carry only the roots (saving a gather per batch)."""
        if self._frames is not None and self._roots is not None:
            # One host-to-device copy per pass and none back: a per-batch round trip would
            # make the host wait for the device's queue to drain every batch.
            perm = torch.from_numpy(rng.permutation(len(self.indices))).to(self.device)
            flat = self._flat_indices[perm]
            for start in range(0, len(perm), batch_size):
                stop = start + batch_size
                sel = perm[start:stop]
                picked = self._frames.index_select(0, sel) if frames else None
                yield flat[start:stop], picked, self._roots.index_select(0, sel)
            return
        yield from self._streamed(rng, batch_size)

    def _streamed(self, rng: np.random.Generator, batch_size: int) -> Iterator[Batch]:
        with ThreadPoolExecutor(max_workers=1) as pool:
            it = self._ds.iter_chunks()
            pending: Any = pool.submit(next, it, None)
            while (item := pending.result()) is not None:
                pending = pool.submit(next, it, None)  # read the next shard while this one runs
                nav, block, received = item
                flat = _flat(nav, received, self._nx)
                frames = np.asarray(block[received], dtype=np.float32)
                perm = rng.permutation(len(flat))
                for start in range(0, len(perm), batch_size):
                    sel = perm[start : start + batch_size]
                    batch = self._prepare(torch.from_numpy(frames[sel])).to(self.device)
                    yield torch.from_numpy(flat[sel]).to(self.device), batch, _roots(batch)
