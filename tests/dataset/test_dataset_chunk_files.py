"""The writer's own shard encoder must write exactly the files zarr writes.

Reference: zarr-python itself, writing the same block into an identical array in a second
store. Equal bytes mean every reader (zarr, ours, other Zarr v3 implementations) sees the
same chunks, CRC-32Cs and shard index.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import zarr

from ptyflow.dataset._chunk_files import ChunkFiles
from ptyflow.dataset._layout import codec_chain


def _pair(tmp_path: Path, **kwargs: object) -> tuple[zarr.Array, zarr.Array]:
    """The same array in two stores: one written by ChunkFiles, one by zarr."""
    arrays = []
    for name in ("ours", "zarr"):
        group = zarr.open_group(tmp_path / name, mode="w")
        arrays.append(
            group.create_array("a", compressors=codec_chain(), **kwargs).with_config(  # type: ignore[arg-type]
                {"write_empty_chunks": True}
            )
        )
    return arrays[0], arrays[1]


@pytest.mark.parametrize(
    ("shape", "shards", "chunks", "nav", "dtype"),
    [
        # a full shard of frames, and one clipped at the scan's edge
        ((8, 12, 5, 6), (4, 8, 5, 6), (2, 4, 5, 6), (slice(4, 8), slice(0, 8)), "u2"),
        ((8, 12, 5, 6), (4, 8, 5, 6), (2, 4, 5, 6), (slice(4, 8), slice(8, 12)), "u2"),
        # a time series, float signals (virtual detectors)
        ((3, 4, 8, 7), (1, 4, 4, 7), (1, 2, 2, 7), (slice(2, 3), slice(0, 4), slice(4, 8)), "f8"),
    ],
)
def test_shard_files_equal_zarrs_byte_for_byte(
    tmp_path: Path,
    shape: tuple[int, ...],
    shards: tuple[int, ...],
    chunks: tuple[int, ...],
    nav: tuple[slice, ...],
    dtype: str,
) -> None:
    ours, ref = _pair(tmp_path, shape=shape, shards=shards, chunks=chunks, dtype=dtype)
    rng = np.random.default_rng(1)
    block_shape = tuple(s.stop - s.start for s in nav) + shape[len(nav) :]
    block = rng.poisson(0.5, block_shape).astype(dtype)
    files = ChunkFiles(ours, tmp_path / "ours")
    rel, data = files.write(nav, block)
    ref[nav] = block
    assert data is not None, "a whole shard takes the fast path"
    assert (tmp_path / "ours" / rel).read_bytes() == data
    assert data == (tmp_path / "zarr" / rel).read_bytes()
    np.testing.assert_array_equal(ours[nav], block)


def test_frames_received_chunks_equal_zarrs(tmp_path: Path) -> None:
    ours, ref = _pair(tmp_path, shape=(6, 10), chunks=(4, 4), dtype=bool, fill_value=False)
    marks = np.random.default_rng(2).random((2, 2)) < 0.5
    marks[0, 0] = True
    nav = (slice(4, 6), slice(8, 10))  # the corner chunk, clipped on both axes
    rel, data = ChunkFiles(ours, tmp_path / "ours").write(nav, marks)
    ref[nav] = marks
    assert data == (tmp_path / "zarr" / rel).read_bytes()


def test_part_of_a_shard_is_patched_by_zarr(tmp_path: Path) -> None:
    ours, _ = _pair(tmp_path, shape=(4, 4, 3), shards=(4, 4, 3), chunks=(2, 2, 3), dtype="u1")
    files = ChunkFiles(ours, tmp_path / "ours")
    whole = np.arange(48, dtype="u1").reshape(4, 4, 3)
    files.write((slice(0, 4), slice(0, 4)), whole)
    _, data = files.write((slice(1, 2), slice(2, 4)), np.full((1, 2, 3), 99, "u1"))
    assert data is None  # zarr read, patched and rewrote the shard
    expected = whole.copy()
    expected[1, 2:4] = 99
    np.testing.assert_array_equal(ours[...], expected)
    assert not list((tmp_path / "ours").rglob("*.partial"))


def test_a_block_over_several_chunks_goes_through_zarr(tmp_path: Path) -> None:
    """A region reaching the array's edge but wider than one chunk is not one file."""
    ours, _ = _pair(tmp_path, shape=(6, 10), chunks=(4, 4), dtype=bool, fill_value=False)
    marks = np.random.default_rng(3).random((6, 10)) < 0.5
    _, data = ChunkFiles(ours, tmp_path / "ours").write((slice(0, 6), slice(0, 10)), marks)
    assert data is None
    np.testing.assert_array_equal(ours[...], marks)
