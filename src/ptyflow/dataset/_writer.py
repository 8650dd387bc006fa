"""The store writer: buffers frames into whole shards and writes each shard once, when full.

zarr-python writes a sharded array fastest when given one whole shard: it encodes it in a
single pass, with no read-modify-write of a partly written shard file. Frames arrive in
raster order (mostly), so the writer keeps one buffer per *open* shard: in raster order
that is one band of shards (``shard_nav[0]`` scan rows × the full scan width). When more
shards than one band are open, gaps are holding the oldest back: it is written with its
missing positions left at the fill value, and a frame arriving for it later is written
straight into the shard on disk (slow, but rare). So memory stays at about one band of
shards, whatever the store's size.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import zarr
from numpy.typing import NDArray

from ptyflow._files import replace_directory
from ptyflow._signals import signals_deferred
from ptyflow.dataset._layout import (
    ATTRS_KEY,
    DATA,
    FRAMES_RECEIVED,
    LIVE,
    RESERVE,
    Geometry,
    get_array,
)
from ptyflow.dataset._live import LiveImages
from ptyflow.dataset._lock import OutputLock
from ptyflow.dataset._metadata import DatasetMetadata, DatasetState
from ptyflow.errors import DatasetError
from ptyflow.provenance import ProvenanceRecord, seal_directory

__all__ = ["DatasetWriter", "close_store", "write_metadata"]

log = logging.getLogger("ptyflow")


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
    received: NDArray[np.bool_],
    images: dict[str, NDArray[np.float32]],
    record: ProvenanceRecord | None,
    recorded_path: Path | None = None,
) -> str:
    """Write ``frames_received``, the live images, then ``metadata`` (its final state), then
    seal the store (§7 of the spec) as living at ``recorded_path`` (default ``path``);
    return its content hash."""
    get_array(group, FRAMES_RECEIVED)[...] = received
    for name, image in images.items():
        get_array(group, f"{LIVE}/{name}")[...] = image
    write_metadata(group, metadata)
    return seal_directory(path, record, recorded_path)


@dataclass
class _ShardBuffer:
    nav: tuple[slice, ...]  # where the shard lies in the scan
    data: NDArray[Any]  # (*shard_nav, *frame_shape), fill value where nothing arrived
    filled: int = field(default=0)

    @property
    def full(self) -> bool:
        return self.filled == int(np.prod([s.stop - s.start for s in self.nav]))


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
        self._received = get_array(group, FRAMES_RECEIVED)  # chunked like the shards
        self._metadata = metadata
        self._geometry = geometry
        self._live = live
        self._record = record
        # Accepted: handed to write_frames (buffered or stored). Stored: in a shard on disk.
        # Only stored frames are ever marked received, so a failed shard write can never
        # turn frames into zeros that look received.
        self._accepted = np.zeros(metadata.nav_shape, dtype=bool)
        self._stored = np.zeros(metadata.nav_shape, dtype=bool)
        self._open: dict[tuple[int, ...], _ShardBuffer] = {}  # insertion order = opening order
        self._written: set[tuple[int, ...]] = set()
        self._max_open = geometry.shard_grid[-1]  # one band of shards across the scan
        self._live_sums: NDArray[np.float64] | None = None  # given by write_frames(live=)
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
        frames = np.asarray(frames)
        start, n_nav = int(start_index), self._accepted.size
        if frames.shape[1:] != self.frame_shape or frames.ndim != len(self.frame_shape) + 1:
            raise DatasetError(
                f"{self.path}: frames from index {start}: got array of shape {frames.shape}, "
                f"expected (n, {', '.join(map(str, self.frame_shape))})"
            )
        if frames.dtype != self.dtype:
            raise DatasetError(
                f"{self.path}: frames from index {start}: dtype {frames.dtype}, "
                f"expected {self.dtype}"
            )
        stop = start + len(frames)
        if start < 0 or stop > n_nav:
            raise DatasetError(
                f"{self.path}: frame indices {start}…{stop - 1} outside the scan (0…{n_nav - 1})"
            )
        flat_accepted = self._accepted.reshape(-1)
        if (dup := np.flatnonzero(flat_accepted[start:stop])).size:
            i = start + int(dup[0])
            raise DatasetError(
                f"{self.path}: frame {i} {self._nav_index(i)} was already written; "
                "nothing from this call was stored"
            )
        if frames.dtype.kind == "f" and not (finite := np.isfinite(frames)).all():
            i = start + int(np.flatnonzero(~finite.reshape(len(frames), -1).all(axis=1))[0])
            raise DatasetError(
                f"{self.path}: frame {i} {self._nav_index(i)} holds NaN or infinity; stored "
                "values must be finite (NaN is the fill of frames never received); nothing "
                "from this call was stored"
            )
        if live is not None:
            if np.shape(live) != (len(frames), 5):
                raise DatasetError(
                    f"{self.path}: live sums from index {start}: shape {np.shape(live)}, "
                    f"expected ({len(frames)}, 5)"
                )
            if self._live_sums is None:
                self._live_sums = np.full((*self.nav_shape, 5), np.nan)
            self._live_sums.reshape(-1, 5)[start:stop] = live
        for a, b in self._runs(start, stop):
            flat_accepted[a:b] = True  # before _put: a shard it completes is flushed at once
            self._put(a, frames[a - start : b - start])

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

    def _put(self, flat: int, run: NDArray[Any]) -> None:
        """Place a run of frames (one scan row, one shard column) starting at ``flat``."""
        pos = self._nav_index(flat)
        key = tuple(p // s for p, s in zip(pos, self._geometry.shard_nav, strict=True))
        if key in self._written:  # a late frame for a shard already on disk
            nav = (*(slice(p, p + 1) for p in pos[:-1]), slice(pos[-1], pos[-1] + len(run)))
            block = run.reshape((1,) * (len(pos) - 1) + run.shape)
            received = np.ones(block.shape[: len(pos)], dtype=bool)
            self._store(nav, block, received)  # zarr reads, patches and rewrites that shard
            return
        buf = self._open.get(key) or self._open_shard(key)
        local = tuple(p - s.start for p, s in zip(pos, buf.nav, strict=True))
        buf.data[(*local[:-1], slice(local[-1], local[-1] + len(run)))] = run
        buf.filled += len(run)
        if buf.full:
            self._flush(key)

    def _open_shard(self, key: tuple[int, ...]) -> _ShardBuffer:
        nav = self._geometry.shard_slices(key)
        shape = tuple(s.stop - s.start for s in nav) + self.frame_shape
        buf = _ShardBuffer(nav, np.full(shape, self._data.fill_value, dtype=self.dtype))
        self._open[key] = buf
        if len(self._open) > self._max_open:
            self._flush(next(iter(self._open)))  # the oldest: gaps are holding it back
        return buf

    def _flush(self, key: tuple[int, ...]) -> None:
        """Write the shard ``key`` whole and compute its live images."""
        buf = self._open.pop(key)
        self._written.add(key)
        self._store(buf.nav, buf.data, self._accepted[buf.nav])

    def _store(
        self, nav: tuple[slice, ...], block: NDArray[Any], received: NDArray[np.bool_]
    ) -> None:
        """Write ``block`` at ``nav``, then mark its ``received`` frames stored, on disk too."""
        where = ", ".join(f"{s.start}:{s.stop}" for s in nav)
        try:
            self._data[nav] = block
        except Exception as err:  # disk full, I/O error: name it; these frames stay unmarked
            raise DatasetError(
                f"{self.target}: could not store the frames at scan positions [{where}]: {err}"
            ) from err
        self._stored[nav] |= received
        self._live.update(nav, block, self._stored[nav], self._given_live(nav))
        try:
            # Persisted shard by shard (one small chunk each), so a crashed writer's store
            # can be recovered: `ptyflow recover` trusts these marks after decoding shards.
            self._received[nav] = self._stored[nav]
        except Exception as err:
            raise DatasetError(
                f"{self.target}: could not mark the frames at scan positions [{where}] as "
                f"received: {err}"
            ) from err

    def _given_live(self, nav: tuple[slice, ...]) -> NDArray[np.float64] | None:
        return None if self._live_sums is None else self._live_sums[nav]

    def _finish(self, *, failed: bool, record: ProvenanceRecord | None) -> None:
        if self._closed:
            return
        self._closed = True  # if even the bookkeeping fails, the store stays "acquiring"
        error: Exception | None = None
        with signals_deferred():  # a second Ctrl-C must not leave the store half-sealed
            for key in list(self._open):
                try:
                    self._flush(key)
                except Exception as err:  # keep the other shards; this one's frames stay missing
                    error = error or err
            if failed or error is not None:
                state = DatasetState.FAILED
            elif self._stored.all():
                state = DatasetState.COMPLETE
            else:
                state = DatasetState.INCOMPLETE
            self._metadata = self._metadata.with_state(state)
            (self.path / RESERVE).unlink(missing_ok=True)  # its room is for what follows
            try:
                self.content_hash = close_store(
                    self.path,
                    self._group,
                    self._metadata,
                    self._stored,
                    self._live.images,
                    record,
                    self.target,
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
                else f"the store is 'failed' and keeps the {int(self._stored.sum())} frames "
                "that were stored"
            )
            raise DatasetError(f"{error} (while closing); {kept}") from error
