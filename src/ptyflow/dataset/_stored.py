"""What of a store being written is on disk: frames stored, their marks, their live images.

A frame counts as stored only once its shard is written and acknowledged, in the order
shards were handed to the pool (:mod:`._shard_pool`); only stored frames are ever marked
received, so a failed shard write can never turn frames into zeros that look received.
Marks are persisted shard by shard (one small chunk each, from the pool's threads), so a
crashed writer's store can be recovered: ``ptyflow recover`` trusts them after decoding
shards. Live images follow the acknowledged shards, or come from the weight sums the
compression stage computed (then all at once on close).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import zarr
from numpy.typing import NDArray

from ptyflow.dataset._chunk_files import ChunkFiles, manifest_entry
from ptyflow.dataset._layout import FRAMES_RECEIVED, Geometry, get_array
from ptyflow.dataset._live import LiveImages
from ptyflow.dataset._shard_pool import WrittenShard
from ptyflow.errors import DatasetError
from ptyflow.provenance import ManifestEntry

__all__ = ["StoredFrames"]


class StoredFrames:
    """The stored frames of the store at ``path`` (named ``target`` in errors)."""

    def __init__(
        self, group: zarr.Group, path: Path, target: Path, geometry: Geometry, live: LiveImages
    ) -> None:
        # chunked like the shards: one small file per shard, written whole by the pool
        self._files = ChunkFiles(get_array(group, FRAMES_RECEIVED), path)
        self._target = target
        self._geometry = geometry
        self._live = live
        #: Frames in a shard on disk, acknowledged.
        self.stored = np.zeros(geometry.nav_shape, dtype=bool)
        self._marked = np.zeros(geometry.nav_shape, dtype=bool)  # as on disk now
        #: Manifest entries of the marks files, hashed as written.
        self.mark_hashes: dict[str, ManifestEntry] = {}
        self._live_sums: NDArray[np.float64] | None = None  # given by write_frames(live=)

    def give_live_sums(self, start: int, sums: NDArray[Any]) -> None:
        """The live-image weight sums ``(n, 5)`` of the frames at flat ``start …``."""
        if self._live_sums is None:
            self._live_sums = np.full((*self._geometry.nav_shape, 5), np.nan)
        self._live_sums.reshape(-1, 5)[start : start + len(sums)] = sums

    def acknowledge(self, shards: Iterable[WrittenShard], discard: Callable[[], None]) -> None:
        """Acknowledge shards the pool has written, oldest first; at the first that failed,
        ``discard`` the rest (their frames stay unmarked, as if never written)."""
        for shard in shards:
            nav = shard.nav
            where = ", ".join(f"{s.start}:{s.stop}" for s in nav)
            if (err := shard.write_error) is not None:
                discard()
                # disk full, I/O error: name it; these frames stay unmarked
                raise DatasetError(
                    f"{self._target}: could not store the frames at scan positions [{where}]: {err}"
                ) from err
            self.stored[nav] |= shard.received
            given = None if self._live_sums is None else self._live_sums[nav]
            if given is None or np.isnan(given).any():  # else all at once on close
                self._live.update(nav, shard.block, self.stored[nav], given)
            if (mark_err := shard.mark_error) is not None:
                raise DatasetError(
                    f"{self._target}: could not mark the frames at scan positions [{where}] "
                    f"as received: {mark_err}"
                ) from mark_err

    def live_images(self) -> dict[str, NDArray[np.float32]]:
        """The live images, those of frames given their sums filled in now (on close)."""
        if self._live_sums is not None:
            given = self.stored & ~np.isnan(self._live_sums).any(axis=-1)
            self._live.update_from_sums(given, self._live_sums)
        return self._live.images

    def mark(self, nav: tuple[slice, ...], received: NDArray[np.bool_]) -> None:
        """Persist the marks of ``nav``: ``received``, the frames of ``nav`` now on disk
        (called from the pool's threads)."""
        rel, data = self._files.write(nav, received)
        self._marked[nav] = received
        if data is None:  # zarr patched it: hashed when sealing
            self.mark_hashes.pop(rel, None)
        else:
            self.mark_hashes[rel] = manifest_entry(data)

    def settle_marks(self) -> None:
        """Make the marks on disk equal the frames stored: unmark shards written after one
        that failed (the pool wrote them, the writer did not acknowledge them)."""
        stale = np.argwhere(self._marked != self.stored)
        shard_nav = np.asarray(self._geometry.shard_nav)
        for key in {tuple(k) for k in (stale // shard_nav).tolist()}:
            nav = self._geometry.shard_slices(key)
            self.mark(nav, self.stored[nav])
