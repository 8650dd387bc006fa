"""A disk that fills at any moment of writing a store: one clear error, and a store that is
``failed`` with its stored frames readable (or complete), never one left ``acquiring``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ptyflow.dataset import DatasetState, create_dataset, open_dataset, validate_dataset
from ptyflow.errors import DatasetError


def _write(path: Path, md, frames: np.ndarray) -> None:
    with create_dataset(path, md, dtype=frames.dtype, shard_nav=(4, 4)) as writer:
        for start in range(0, len(frames), 8):  # a scan row at a time
            writer.write_frames(start, frames[start : start + 8])


def test_every_fill_level_ends_in_one_clear_error(tmp_path: Path, make_metadata, tmpfs) -> None:
    md = make_metadata(scan_shape=(8, 8), det_shape=(32, 32))
    frames = np.random.default_rng(0).integers(0, 4096, (64, 32, 32), dtype=np.uint16)
    with tmpfs(tmp_path / "roomy", 16 << 20) as roomy:
        _write(roomy / "s.zarr", md, frames)
        needed = sum(p.stat().st_size for p in roomy.rglob("*") if p.is_file())
    outcomes = []
    # Peak use is above the final size: the writer holds back room to close the store.
    for i, size in enumerate(range(needed // 8, needed * 3, needed * 3 // 10)):
        with tmpfs(tmp_path / f"fs{i}", size) as disk:
            store = disk / "s.zarr"
            try:
                _write(store, md, frames)
            except DatasetError as err:
                message = str(err)
                assert "No space left on device" in message and str(store) in message
            where = f"tmpfs of {size} bytes"
            assert {p.name for p in disk.iterdir()} <= {"s.zarr"}, where
            if not store.exists():
                outcomes.append("not created")
                continue
            ds = open_dataset(store)
            outcomes.append(ds.state.value)
            assert ds.state in (DatasetState.FAILED, DatasetState.COMPLETE), where
            for (iy, ix), frame in ds.iter_frames():
                np.testing.assert_array_equal(frame, frames[iy * 8 + ix], err_msg=where)
            problems = validate_dataset(store, verify_checksums=True)
            assert all("acquisition ended with an error" in p for p in problems), where
    # The sweep runs from a disk too small to create the store, through one that fills while
    # frames are written (some kept, some not), to one with enough room.
    assert outcomes[0] == "not created" and outcomes[-1] == "complete", outcomes
    assert "failed" in outcomes, outcomes
