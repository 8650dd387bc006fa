"""Whole shards written in parallel from a small thread pool, behind a bounded queue.

Blosc/zstd and the CRC-32C release the GIL, so a few threads encode and write shards side
by side while the caller keeps buffering frames. At most ``max_pending`` shards are in
flight; :meth:`ShardPool.submit` blocks on the oldest beyond that, so memory stays bounded.
Whole shards are encoded in one pass (:class:`._chunk_files.ChunkFiles`), not through
zarr's per-chunk pipeline. Right after its shard file is written, a thread persists the
shard's marks in ``frames_received`` (``mark``), so a crashed writer's store knows the
shards that landed whatever the caller was doing; and hashes the bytes it wrote (or, for
a shard zarr patched, the file), so sealing the store needs no re-read of its data
(:attr:`ShardPool.hashes` feeds the manifest). Shards are acknowledged in the order
submitted, on the caller's thread.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import zarr
from numpy.typing import NDArray

from ptyflow.dataset._chunk_files import ChunkFiles, manifest_entry
from ptyflow.provenance import ManifestEntry

__all__ = ["ShardPool", "WrittenShard"]


#: Persists the marks of frames now on disk: ``mark(nav, received)``.
Mark = Callable[[tuple[slice, ...], NDArray[np.bool_]], None]


@dataclass(frozen=True)
class _Landed:
    rel: str  # the shard file, relative to the store
    entry: ManifestEntry
    mark_error: Exception | None  # the shard is on disk, but marking it received failed


@dataclass
class WrittenShard:
    """A shard write handed to the pool, as it comes back."""

    nav: tuple[slice, ...]
    block: NDArray[Any]
    received: NDArray[np.bool_]
    future: Future[_Landed]

    @property
    def write_error(self) -> BaseException | None:
        """Why the shard is not on disk, or None."""
        return self.future.exception()

    @property
    def mark_error(self) -> Exception | None:
        """Why the shard, on disk, could not be marked received, or None."""
        return self.future.result().mark_error


class ShardPool:
    """Writes ``block``s into ``array`` (a sharded array of the store at ``root``)."""

    def __init__(
        self, array: zarr.Array, root: Path, mark: Mark, threads: int, max_pending: int
    ) -> None:
        self._files = ChunkFiles(array, root)
        self._mark = mark
        self._root = root
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="shard")
        self._max_pending = max(1, max_pending)
        self._pending: collections.deque[WrittenShard] = collections.deque()
        #: Manifest entries of the shard files written, by path relative to ``root``.
        self.hashes: dict[str, ManifestEntry] = {}

    @property
    def pending(self) -> int:
        return len(self._pending)

    def submit(
        self, nav: tuple[slice, ...], block: NDArray[Any], received: NDArray[np.bool_]
    ) -> Iterator[WrittenShard]:
        """Queue a write; yield the oldest shards done (or failed) to make room for it."""
        # Bound to the method as it is now (a test may patch it after queueing).
        future = self._pool.submit(self._write, self._files.write, nav, block, received)
        self._pending.append(WrittenShard(nav, block, received, future))
        while len(self._pending) > self._max_pending:
            yield self._next()

    def drain(self) -> Iterator[WrittenShard]:
        """Yield every queued shard once done (or failed), oldest first."""
        while self._pending:
            yield self._next()

    def discard(self) -> None:
        """Wait for the queued writes and forget them: their frames are not acknowledged."""
        for shard in self._pending:
            shard.future.exception()  # waits
        self._pending.clear()

    def shutdown(self) -> None:
        self.discard()
        self._pool.shutdown(wait=True)

    def _next(self) -> WrittenShard:
        shard = self._pending.popleft()
        if shard.write_error is None:
            landed = shard.future.result()
            self.hashes[landed.rel] = landed.entry
        return shard

    def _write(
        self,
        write: Callable[[tuple[slice, ...], NDArray[Any]], tuple[str, bytes | None]],
        nav: tuple[slice, ...],
        block: NDArray[Any],
        received: NDArray[np.bool_],
    ) -> _Landed:
        rel, data = write(nav, block)
        mark_error = None
        try:
            self._mark(nav, received)
        except Exception as err:
            mark_error = err
        if data is None:  # zarr patched the file: hash it while it is in the page cache
            with open(self._root / rel, "rb") as fh:
                data = fh.read()  # compressed: a few MB at most
        return _Landed(rel, manifest_entry(data), mark_error)
