"""Band buffering in the writer: time series, frames arriving late, and shards with gaps.

Frames go to the writer in runs (as the acquisition daemon hands them over) in a mostly
raster order with stretches shuffled, some frames never sent and some sent so late that
their shard is already on disk (patched there). Reference: the frames themselves, placed
by numpy at their flat indices.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from ptyflow.dataset import DatasetMetadata, create_dataset, open_dataset, validate_dataset


def _arrival(n: int, rng: np.random.Generator) -> tuple[list[int], list[int]]:
    """(order of arrival, frames never sent)."""
    order = list(range(n))
    for _ in range(4):
        a = int(rng.integers(0, n - 10))
        order[a : a + 10] = rng.permutation(order[a : a + 10]).tolist()
    never = sorted(rng.choice(n, size=n // 20, replace=False).tolist())
    order = [i for i in order if i not in set(never)]
    late = rng.choice(len(order) // 2, size=5, replace=False)  # from the first half ...
    moved = [order[i] for i in sorted(late)]
    kept = [i for k, i in enumerate(order) if k not in set(late.tolist())]
    return kept + moved, never  # ... to the end


@pytest.mark.parametrize(("scan", "n_time"), [((12, 10), None), ((5, 7), 3)])
def test_writer_stores_exactly_what_arrived(
    tmp_path: Path,
    make_metadata: Callable[..., DatasetMetadata],
    scan: tuple[int, int],
    n_time: int | None,
) -> None:
    md = make_metadata(scan_shape=scan, det_shape=(4, 4), n_time=n_time)
    nav = md.nav_shape
    n = int(np.prod(nav))
    rng = np.random.default_rng(3)
    frames = rng.integers(1, 1000, size=(n, 4, 4)).astype(np.uint16)  # never the fill value
    order, never = _arrival(n, rng)
    with create_dataset(
        tmp_path / "s.zarr", md, dtype=np.uint16, shard_nav=(2, 4), chunk_nav=(1, 2)
    ) as writer:
        k = 0
        while k < len(order):  # runs of consecutive ids, as the daemon writes them
            j = k + 1
            while j < len(order) and order[j] == order[j - 1] + 1 and j - k < 9:
                j += 1
            writer.write_frames(order[k], frames[order[k] : order[k] + j - k])
            k = j
    ds = open_dataset(tmp_path / "s.zarr")
    received = np.ones(n, bool)
    received[never] = False
    np.testing.assert_array_equal(ds.frames_received.reshape(-1), received)
    stored = np.asarray(ds.data_array[...]).reshape(n, 4, 4)
    np.testing.assert_array_equal(stored[received], frames[received])
    assert (stored[~received] == 0).all()  # gaps hold the fill value, not stale memory
    assert validate_dataset(tmp_path / "s.zarr", verify_checksums=True) == []


def test_a_run_into_a_band_it_evicted_patches_that_band(
    tmp_path: Path, make_metadata: Callable[..., DatasetMetadata]
) -> None:
    """Bands of 4 frames (2 rows of 2). Frames 15 (band 3) and 7 (band 1) open two bands;
    the run 8…14 opens band 2, which evicts band 3 (opened first), then reaches band 3:
    frames 12…14 must be patched into its shard on disk, keeping frame 15."""
    md = make_metadata(scan_shape=(8, 2), det_shape=(2, 2))
    frames = np.arange(1, 65, dtype=np.uint16).reshape(16, 2, 2)
    with create_dataset(
        tmp_path / "s.zarr", md, dtype=np.uint16, shard_nav=(2, 2), chunk_nav=(1, 1)
    ) as writer:
        writer.write_frames(15, frames[15:16])
        writer.write_frames(7, frames[7:8])
        writer.write_frames(8, frames[8:15])
    ds = open_dataset(tmp_path / "s.zarr")
    received = np.zeros(16, bool)
    received[7:16] = True
    np.testing.assert_array_equal(ds.frames_received.reshape(-1), received)
    np.testing.assert_array_equal(np.asarray(ds.data_array[...]).reshape(16, 2, 2)[7:], frames[7:])


def test_a_band_is_reused_only_once_nothing_refers_to_it() -> None:
    """A finished band's buffer goes to a later band only after every shard handed out
    from it (a view, as the writing threads hold it) is gone: reusing it earlier would
    overwrite frames not yet on disk. Reused, it saves the page faults of a new one."""
    from ptyflow.dataset._bands import BandBuffer
    from ptyflow.dataset._layout import Geometry

    geometry = Geometry(nav_shape=(10, 4), shard_nav=(2, 4), chunk_nav=(1, 2))
    accepted = np.zeros((10, 4), bool)
    bands = BandBuffer(geometry, (3, 3), np.dtype(np.uint16), 0, accepted)

    def fill_band(k: int) -> np.ndarray:
        frames = np.full((8, 3, 3), k + 1, np.uint16)
        accepted.reshape(-1)[8 * k : 8 * k + 8] = True
        (ready,) = bands.put(8 * k, frames)  # the band's one shard, whole
        return ready.block

    def address(block: np.ndarray) -> int:
        return int(block.__array_interface__["data"][0])

    first = fill_band(0)
    second = fill_band(1)  # band 0's shard is held (being written): a new buffer
    assert address(second) != address(first) and (first == 1).all()
    freed = {address(first), address(second)}
    del first, second  # written: nothing refers to bands 0 and 1 any more
    third = fill_band(2)
    assert address(third) in freed  # reused
    fourth = fill_band(3)
    assert address(fourth) in freed - {address(third)}
    fifth = fill_band(4)  # bands 2 and 3 still held: fresh memory, nothing overwritten
    assert address(fifth) not in freed
    assert (third == 3).all() and (fourth == 4).all() and (fifth == 5).all()
