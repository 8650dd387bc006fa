"""Frames buffered in bands of shards until each shard is whole.

A band is ``shard_nav[-2]`` scan rows across the full scan width (one time step of a
series): every shard of one shard row. Frames arriving in raster order fill a band row by
row, so a run of frames is one numpy copy per scan row (whole rows at once), not one per
shard, and the shards of a band are views into its buffer: handing a full shard to the
threads that encode it copies nothing. A shard is ready when all its positions arrived;
at most ``max_open`` bands are open, and opening one more makes the oldest ready with its
gaps (filled with the fill value). Memory: the open bands plus the shards being written.

A band's memory is reused for a later band once nothing refers to it any more: every
shard handed out is a view of its band, and a view keeps its base alive, so the band's
reference count says when the threads writing its shards and the writer are done with
it. A fresh band of tens of MB costs a page fault per 4 KiB on first touch (about as much
as copying the frames in); a reused one costs nothing.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ptyflow.dataset._layout import Geometry

__all__ = ["BandBuffer", "ReadyShard"]

_SPARE_BANDS = 2  # finished bands kept for reuse (a third waits on the writing threads)
#: sys.getrefcount of a spare that nothing else refers to: the spare list's reference
#: and getrefcount's own argument.
_UNREFERENCED = 2


@dataclass(frozen=True)
class ReadyShard:
    shard: int  # flat index in the shard grid
    nav: tuple[slice, ...]  # where it lies in the scan, clipped
    block: NDArray[Any]  # (*nav shape, *frame_shape): a view into its band


@dataclass
class _Band:
    data: NDArray[Any]  # (band rows, nx, *frame_shape)
    filled: NDArray[np.int64]  # frames placed, per shard column
    capacity: NDArray[np.int64]  # positions, per shard column
    done: NDArray[np.bool_]  # handed out, per shard column


class BandBuffer:
    """Places runs of frames into bands; yields shards once whole (or evicted)."""

    def __init__(
        self,
        geometry: Geometry,
        frame_shape: tuple[int, ...],
        dtype: np.dtype[Any],
        fill_value: Any,
        accepted: NDArray[np.bool_],
        max_open: int = 2,
    ) -> None:
        self._geometry = geometry
        self._frame_shape = frame_shape
        self._dtype = dtype
        self._fill = fill_value
        self._accepted = accepted  # nav-shaped, owned by the writer: where frames arrived
        self._max_open = max_open
        self._ny, self._nx = geometry.nav_shape[-2:]
        self._sy, self._sx = geometry.shard_nav[-2:]
        self._n_bands_y, self._n_cols = geometry.shard_grid[-2:]
        edges = np.minimum(np.arange(self._n_cols + 1) * self._sx, self._nx)
        self._col_width = np.diff(edges)
        self._open: dict[int, _Band] = {}  # by band index; insertion order = opening order
        self._spares: list[NDArray[Any]] = []  # finished bands, oldest first

    def shard_key(self, shard: int) -> tuple[int, ...]:
        """The index tuple in the shard grid of flat shard index ``shard``."""
        return tuple(int(k) for k in np.unravel_index(shard, self._geometry.shard_grid))

    def pieces(self, start: int, stop: int) -> list[tuple[int, int, int]]:
        """Flat range ``[start, stop)`` cut where it passes from one band into the next:
        ``(start, stop, band)`` each (band: its index over time steps and shard rows)."""
        first, last = start // self._nx, (stop - 1) // self._nx
        band = int(self._band_of_row(first))
        if band == int(self._band_of_row(last)):  # the usual case
            return [(start, stop, band)]
        rows = np.arange(first, last + 1)
        bands = self._band_of_row(rows)
        cut = np.flatnonzero(np.diff(bands)) + 1
        edges = [start, *(rows[cut] * self._nx).tolist(), stop]
        return [
            (a, b, int(k))
            for (a, b), k in zip(itertools.pairwise(edges), bands[[0, *cut]], strict=True)
        ]

    def band_shards(self, band: int) -> slice:
        """The flat shard indices of ``band``."""
        return slice(band * self._n_cols, (band + 1) * self._n_cols)

    def shard_ids(self, start: int, stop: int) -> NDArray[np.intp]:
        """Flat index in the shard grid of each frame in flat range ``[start, stop)``."""
        row, x = np.divmod(np.arange(start, stop), self._nx)
        return (self._band_of_row(row) * self._n_cols + x // self._sx).astype(np.intp)

    def _band_of_row(self, row: Any) -> Any:
        """Band index (over time steps and shard rows) of flat scan row(s) ``row``."""
        t, y = np.divmod(row, self._ny)
        return t * self._n_bands_y + y // self._sy

    def put(self, flat: int, frames: NDArray[Any]) -> Iterator[ReadyShard]:
        """Place ``frames`` at flat indices ``flat …``, all in one band (:meth:`pieces`) and
        none in a shard already handed out; yield the shards that became whole, and any
        evicted to make room (never of this band)."""
        i, stop = flat, flat + len(frames)
        while i < stop:
            row, x = divmod(i, self._nx)
            key, band_row = int(self._band_of_row(row)), row % self._ny % self._sy
            band = self._open.get(key)
            if band is None:
                yield from self._evict_beyond(self._max_open - 1)
                band = self._open[key] = self._new_band(key)
            if x == 0 and stop - i >= self._nx:  # whole rows at once
                n_rows = min((stop - i) // self._nx, band.data.shape[0] - band_row)
                rows = frames[i - flat : i - flat + n_rows * self._nx]
                band.data[band_row : band_row + n_rows] = rows.reshape(
                    n_rows, self._nx, *self._frame_shape
                )
                band.filled += n_rows * self._col_width
                i += n_rows * self._nx
            else:  # part of one row
                end = min(stop, i - x + self._nx)
                band.data[band_row, x : x + end - i] = frames[i - flat : end - flat]
                cols = np.arange(x // self._sx, (x + end - i - 1) // self._sx + 1)
                lo = np.maximum(cols * self._sx, x)
                hi = np.minimum((cols + 1) * self._sx, x + end - i)
                band.filled[cols] += hi - lo
                i = end
            full = np.flatnonzero(~band.done & (band.filled == band.capacity))
            yield from self._ready(key, band, full)

    def drain(self) -> Iterator[ReadyShard]:
        """Hand out every buffered shard, gaps filled."""
        yield from self._evict_beyond(0)

    def _new_band(self, key: int) -> _Band:
        rows = min(self._sy, self._ny - key % self._n_bands_y * self._sy)
        data = self._reuse((rows, self._nx, *self._frame_shape))
        return _Band(
            data,
            np.zeros(self._n_cols, np.int64),
            rows * self._col_width,
            np.zeros(self._n_cols, bool),
        )

    def _reuse(self, shape: tuple[int, ...]) -> NDArray[Any]:
        """A finished band's buffer nothing refers to any more, else a new one."""
        for i in range(len(self._spares)):
            if self._spares[i].shape == shape and sys.getrefcount(self._spares[i]) <= _UNREFERENCED:
                return self._spares.pop(i)
        return np.empty(shape, dtype=self._dtype)

    def _evict_beyond(self, keep: int) -> Iterator[ReadyShard]:
        while len(self._open) > keep:
            key = next(iter(self._open))
            band = self._open[key]
            yield from self._ready(key, band, np.flatnonzero(~band.done))

    def _ready(self, key: int, band: _Band, cols: NDArray[np.intp]) -> Iterator[ReadyShard]:
        for col in cols.tolist():
            band.done[col] = True
            shard = key * self._n_cols + col
            nav = self._geometry.shard_slices(self.shard_key(shard))
            block = band.data[:, nav[-1]]
            if band.filled[col] < band.capacity[col]:  # gaps: fill value, not stale memory
                block[~self._accepted[nav].reshape(block.shape[:2])] = self._fill
            nav_shape = tuple(n.stop - n.start for n in nav)
            yield ReadyShard(shard, nav, block.reshape(*nav_shape, *self._frame_shape))
        if band.done.all():
            del self._open[key]
            self._spares = [*self._spares, band.data][-_SPARE_BANDS:]
