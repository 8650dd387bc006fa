"""Shard and chunk sizes of the daemon's stores, fitted to the bytes each frame leaves.

Compression changes a frame's size by up to ~700× (18 KB raw, 128 B as 32 signals), so
one fixed shard of scan positions is either huge or a swarm of tiny files. Every shard
file costs ~1 ms to encode, checksum, hash and create whatever its size, so small
outputs want wide shards (``benchmarks/acquire_throughput.py``: 16×64 instead of 16×16
took bin4 from 58k to 77k frames/s end to end). ~4 MiB shards also suit reading: zarr
reads whole chunks, and ~256 KiB chunks are large for a filesystem and small for RAM.
"""

from __future__ import annotations

from ptyflow.config.acquire import AcquireConfig

__all__ = ["store_layout"]

SHARD_ROWS = 16  # the band of scan rows the writer buffers is one shard row
TARGET_SHARD_BYTES = 4 * 2**20
MAX_SHARD_COLUMNS = 1024


def _auto_shard(bytes_per_frame: int) -> tuple[int, int]:
    columns = 16
    while columns < MAX_SHARD_COLUMNS and SHARD_ROWS * columns * bytes_per_frame < (
        TARGET_SHARD_BYTES
    ):
        columns *= 2
    return SHARD_ROWS, columns


def _quarter(n: int) -> int:
    return n // 4 if n % 4 == 0 else n


def store_layout(
    config: AcquireConfig, bytes_per_frame: int
) -> tuple[tuple[int, int], tuple[int, int]]:
    """``(shard_nav, chunk_nav)`` for ``create_dataset``: the config's, or chosen
    from the output's ``bytes_per_frame`` where it says ``auto`` (a scan narrower than
    the shard clips it, ``dataset.plan_geometry``)."""
    out = config.output
    shard = _auto_shard(bytes_per_frame) if out.shard_nav == "auto" else out.shard_nav
    chunk = (_quarter(shard[0]), _quarter(shard[1])) if out.chunk_nav == "auto" else out.chunk_nav
    return shard, chunk
