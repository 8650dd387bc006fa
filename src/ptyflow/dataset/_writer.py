"""The store writer: buffers frames into whole shards and writes each shard once, when full.

A whole shard is encoded in a single pass, with no read-modify-write of a partly written
shard file. Frames arrive in raster order (mostly), so the writer buffers bands of shards
(``shard_nav[0]`` scan rows × the full scan width, :mod:`._bands`), one numpy copy per
scan row of a run of frames. When a third band opens, gaps are holding the oldest back:
its shards are written with their missing positions left at the fill value, and a frame
arriving later for a shard already written is patched into the file on disk (slow, but
rare). So memory stays at about two bands plus the shards being written, whatever the
store's size. Full shards are written by a small thread pool (:mod:`._shard_pool`) while
the caller goes on; a frame counts as received only once its shard is on disk
(:mod:`._stored`).
"""

from __future__ import annotations

import itertools
import logging
import math
import shutil
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import zarr
from numpy.typing import NDArray

from ptyflow._files import replace_directory
from ptyflow._signals import signals_deferred
from ptyflow.dataset._bands import BandBuffer, ReadyShard
from ptyflow.dataset._close_store import close_store
from ptyflow.dataset._frame_checks import check_frames
from ptyflow.dataset._layout import DATA, RESERVE, Geometry, get_array
from ptyflow.dataset._live import LiveImages
from ptyflow.dataset._lock import OutputLock
from ptyflow.dataset._metadata import DatasetMetadata, DatasetState
from ptyflow.dataset._shard_pool import ShardPool
from ptyflow.dataset._stored import StoredFrames
from ptyflow.errors import DatasetError
from ptyflow.provenance import ProvenanceRecord

__all__ = ["DatasetWriter"]

log = logging.getLogger("ptyflow")


_THREADS = 2  # shard-writing threads per writer
#: Bytes of shards queued for the threads at most (at least two shards, at most one band):
#: a band's shards become whole together, and the caller goes on while they are written.
_PENDING_BYTES = 256 * 2**20


class DatasetWriter:
    """Writes frames into a new store; use :func:`create_dataset` to get one.

    Use it as a context manager: leaving the ``with`` block closes the store, as
    ``complete``/``incomplete`` normally and as ``failed`` (then re-raising) on an exception.
    One thread owns a writer (it is not thread-safe).

    A writer that replaces an existing store writes beside it (``path`` is a temp sibling
    of ``target``) and puts the sealed store in place with :meth:`commit`; that happens
    on close unless the writer was created with ``replace_on_close=False`` (so the caller
    can finish companion artifacts first). A replacement that ends ``failed`` is deleted
    and the old store stays. The writer holds the lock on ``target`` until then.
    """

    def __init__(
        self,
        path: Path,
        group: zarr.Group,
        metadata: DatasetMetadata,
        geometry: Geometry,
        live: LiveImages,
        record: ProvenanceRecord | None,
        *,
        target: Path,
        lock: OutputLock,
        replace_on_close: bool = True,
    ) -> None:
        #: Where the store is written: ``target``, or a temp sibling when replacing one.
        self.path = path
        #: Where the store ends up.
        self.target = target
        self._lock = lock
        self._replace_on_close = replace_on_close
        self._group = group
        # Every shard gets a file, even one equal to the fill value, so a reader can tell a
        # lost shard file from frames that were zero.
        self._data = get_array(group, DATA).with_config({"write_empty_chunks": True})
        self._metadata = metadata
        self._geometry = geometry
        self._record = record
        # Accepted: handed to write_frames (buffered or stored). Stored: in a shard on disk.
        self._accepted = np.zeros(metadata.nav_shape, dtype=bool)
        self._disk = StoredFrames(group, path, target, geometry, live)
        self._bands = BandBuffer(
            geometry, metadata.frame_shape, self.dtype, self._data.fill_value, self._accepted
        )
        self._handed = np.zeros(math.prod(geometry.shard_grid), dtype=bool)  # to the pool
        shard_bytes = math.prod(geometry.shard_nav) * math.prod(self.frame_shape)
        pending = min(
            geometry.shard_grid[-1], _PENDING_BYTES // (shard_bytes * self.dtype.itemsize)
        )
        self._pool = ShardPool(
            self._data,
            path,
            self._disk.mark,
            threads=_THREADS,
            max_pending=max(_THREADS, pending),
        )
        self._closed = False
        #: The store's content hash (tree hash of its manifest), once closed.
        self.content_hash: str | None = None

    @property
    def metadata(self) -> DatasetMetadata:
        """The metadata as stored now (state ``acquiring`` until closed)."""
        return self._metadata

    @property
    def nav_shape(self) -> tuple[int, ...]:
        return self._metadata.nav_shape

    @property
    def frame_shape(self) -> tuple[int, ...]:
        return self._metadata.frame_shape

    @property
    def dtype(self) -> np.dtype[Any]:
        return np.dtype(self._data.dtype)

    @property
    def n_received(self) -> int:
        """Frames accepted so far."""
        return int(self._accepted.sum())

    def write_frame(self, index: int | tuple[int, ...], frame: NDArray[Any]) -> None:
        """Write one frame at a flat raster ``index`` or a navigation index tuple."""
        flat = int(index) if isinstance(index, int | np.integer) else self._flat_index(index)
        self.write_frames(flat, np.asarray(frame)[np.newaxis])

    def write_frames(
        self, start_index: int, frames: NDArray[Any], live: NDArray[Any] | None = None
    ) -> None:
        """Write ``frames`` ``(n, *frame_shape)`` at flat raster indices ``start_index …``.

        Frames may arrive in any order and with gaps. The whole call is checked first
        (shape, dtype, range, frames already written), so a rejected call stores nothing.
        ``live`` ``(n, 5)``: the frames' live-image weight sums, when the compression stage
        computed them (``ptyflow.compress.LIVE_SUMS``); the writer then skips its own.
        """
        if self._closed:
            raise DatasetError(f"{self.path}: the writer is closed")
        frames, start = np.asarray(frames), int(start_index)
        check_frames(self.path, start, frames, self.frame_shape, self.dtype, self._accepted, live)
        if live is not None:
            self._disk.give_live_sums(start, np.asarray(live))
        stop, flat_accepted = start + len(frames), self._accepted.reshape(-1)
        flat_accepted[start:stop] = True  # before placing: a shard it completes goes at once
        for p0, p1, band in self._bands.pieces(start, stop):  # band by band: placing one
            if not self._handed[self._bands.band_shards(band)].any():  # may evict others
                for ready in self._bands.put(p0, frames[p0 - start : p1 - start]):
                    self._hand_out(ready)  # the usual case: none of this band written yet
                continue
            late = self._handed[self._bands.shard_ids(p0, p1)]
            edges = [p0, *(p0 + np.flatnonzero(np.diff(late)) + 1).tolist(), p1]
            for a, b in itertools.pairwise(edges):  # one run unless frames arrive late
                if late[a - p0]:
                    self._patch(a, frames[a - start : b - start])
                else:
                    for ready in self._bands.put(a, frames[a - start : b - start]):
                        self._hand_out(ready)

    def sync(self) -> None:
        """Wait until every full shard handed over is on disk and marked received.

        Shards are written in the background; partly filled ones stay buffered until close.
        """
        self._disk.acknowledge(self._pool.drain(), self._pool.discard)

    def close(self, record: ProvenanceRecord | None = None) -> None:
        """Flush, mark the state ``complete`` or ``incomplete``, and seal the store.

        ``record`` (or the one given at creation) is finished with the store's content
        hash and written as ``provenance.json``. Closing twice does nothing.
        """
        self._finish(failed=False, record=record or self._record)

    def commit(self) -> None:
        """Put a sealed replacement in place of the old store, then release the lock.

        A no-op swap for a store written in place; closing twice or committing a
        replacement that failed (already deleted) does nothing.
        """
        if not self._closed:
            raise DatasetError(f"{self.target}: close the writer before committing the store")
        if self.path != self.target and self.path.exists():
            with signals_deferred():
                replace_directory(self.path, self.target)
            self.path = self.target
        self._lock.release()

    def abort(self) -> None:
        """Give up: close the store as ``failed`` if still open, delete an uncommitted
        replacement (the old store stays), and release the lock.

        A store written in place is never deleted; after a commit this does nothing.
        """
        if not self._closed:
            self._finish(failed=True, record=self._record)  # ends in abort() again
            return
        if not self._lock.held:
            return
        if self.path != self.target:
            shutil.rmtree(self.path, ignore_errors=True)
            log.warning("%s: the new store was not finished; the old one is kept", self.target)
        self._lock.release()

    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._finish(failed=exc is not None, record=self._record)

    # -- internals ---------------------------------------------------------------------

    def _nav_index(self, flat: int) -> tuple[int, ...]:
        return tuple(int(i) for i in np.unravel_index(flat, self.nav_shape))

    def _flat_index(self, index: tuple[int, ...]) -> int:
        try:
            return int(np.ravel_multi_index(index, self.nav_shape))
        except ValueError:
            raise DatasetError(
                f"{self.path}: frame {index} outside the scan {self.nav_shape}"
            ) from None

    def _runs(self, start: int, stop: int) -> list[tuple[int, int]]:
        """Split flat range [start, stop) into runs inside one scan row and one shard column."""
        nx, sx = self.nav_shape[-1], self._geometry.shard_nav[-1]
        runs, i = [], start
        while i < stop:
            x = i % nx
            end = min(stop, i - x + nx, i - x % sx + sx)
            runs.append((i, end))
            i = end
        return runs

    def _patch(self, start: int, frames: NDArray[Any]) -> None:
        """Write frames arriving late, for shards already written, into the files on disk."""
        for a, b in self._runs(start, start + len(frames)):
            pos = self._nav_index(a)
            nav = (*(slice(p, p + 1) for p in pos[:-1]), slice(pos[-1], pos[-1] + b - a))
            run = frames[a - start : b - start]
            block = run.reshape((1,) * (len(pos) - 1) + run.shape)
            self.sync()  # the shard's first write must land first
            self._submit(nav, block, np.ones(block.shape[: len(pos)], dtype=bool))
            self.sync()  # zarr read, patched and rewrote that shard

    def _hand_out(self, ready: ReadyShard) -> None:
        """Queue a shard the band buffer let go of (whole, or with gaps) to be written."""
        self._handed[ready.shard] = True
        self._submit(ready.nav, ready.block, self._accepted[ready.nav])

    def _submit(
        self, nav: tuple[slice, ...], block: NDArray[Any], received: NDArray[np.bool_]
    ) -> None:
        self._disk.acknowledge(self._pool.submit(nav, block, received), self._pool.discard)

    def _finish(self, *, failed: bool, record: ProvenanceRecord | None) -> None:
        if self._closed:
            return
        self._closed = True  # if even the bookkeeping fails, the store stays "acquiring"
        error: Exception | None = None
        with signals_deferred():  # a second Ctrl-C must not leave the store half-sealed
            for ready in self._bands.drain():
                try:
                    self._hand_out(ready)
                except Exception as err:  # keep the other shards; this one's frames stay missing
                    error = error or err
            try:
                self.sync()
            except Exception as err:
                error = error or err
            self._pool.shutdown()
            if failed or error is not None:
                state = DatasetState.FAILED
            elif self._disk.stored.all():
                state = DatasetState.COMPLETE
            else:
                state = DatasetState.INCOMPLETE
            self._metadata = self._metadata.with_state(state)
            (self.path / RESERVE).unlink(missing_ok=True)  # its room is for what follows
            try:
                self._disk.settle_marks()
                self.content_hash = close_store(
                    self.path,
                    self._group,
                    self._metadata,
                    None,  # frames_received: on disk already
                    self._disk.live_images(),
                    record,
                    self.target,
                    {**self._pool.hashes, **self._disk.mark_hashes},
                )
            except Exception as err:
                self._lock.release()
                raise DatasetError(
                    f"{self.target}: could not seal the store ({err}); it stays 'acquiring' "
                    f"at {self.path}: free some space, then `ptyflow recover` it"
                ) from error or err
            if state is DatasetState.FAILED:
                self.abort()
            elif self._replace_on_close:
                self.commit()
        if error is not None:
            kept = (
                f"the new store was deleted and the old one at {self.target} kept"
                if self.path != self.target
                else f"the store is 'failed' and keeps the {int(self._disk.stored.sum())} frames "
                "that were stored"
            )
            raise DatasetError(f"{error} (while closing); {kept}") from error
