"""Overwriting never destroys the old store before the new one is sealed; one writer per path."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from ptyflow.dataset import DatasetState, create_dataset, open_dataset, validate_dataset
from ptyflow.errors import DatasetError
from ptyflow.provenance import read_record, start_record


@pytest.fixture
def old(tmp_path, make_metadata, make_frames, write_store) -> Path:
    md = make_metadata(scan_shape=(4, 4))
    return write_store(tmp_path / "s.zarr", md, make_frames((4, 4), (16, 16), seed=1))


def _siblings(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir())


def test_interrupted_overwrite_keeps_the_old_store(old, make_metadata, make_frames) -> None:
    frames = make_frames((4, 4), (16, 16), seed=2)
    with (
        pytest.raises(KeyboardInterrupt),
        create_dataset(
            old, make_metadata(scan_shape=(4, 4)), dtype=np.uint16, overwrite=True
        ) as writer,
    ):
        assert writer.path != old and writer.path.parent == old.parent  # written beside it
        writer.write_frames(0, frames[:8])
        raise KeyboardInterrupt
    assert open_dataset(old).state is DatasetState.COMPLETE
    assert validate_dataset(old, verify_checksums=True) == []
    assert _siblings(old) == ["s.zarr"]  # the failed replacement is gone, so is the lock


def test_killed_overwrite_leaves_the_old_store_in_place(old, make_metadata, make_frames):
    frames = make_frames((4, 4), (16, 16), seed=2)
    writer = create_dataset(old, make_metadata(scan_shape=(4, 4)), dtype=np.uint16, overwrite=True)
    writer.write_frames(0, frames)  # then the process dies: no close
    assert validate_dataset(old, verify_checksums=True) == []
    np.testing.assert_array_equal(
        open_dataset(old).read_frame(0), make_frames((4, 4), (16, 16), seed=1)[0]
    )
    assert open_dataset(writer.path).state is DatasetState.ACQUIRING  # recoverable beside it


def test_overwrite_swaps_in_the_sealed_store(old, make_metadata, make_frames) -> None:
    frames = make_frames((4, 4), (16, 16), seed=2)
    record = start_record("test", command=["pytest"])
    with create_dataset(
        old, make_metadata(scan_shape=(4, 4)), dtype=np.uint16, overwrite=True, record=record
    ) as writer:
        writer.write_frames(0, frames)
    assert writer.path == old
    np.testing.assert_array_equal(open_dataset(old).read_frame(5), frames[5])
    assert validate_dataset(old, verify_checksums=True) == []
    assert read_record(old).outputs[0].path == str(old.resolve())  # where it lives, not the temp
    assert _siblings(old) == ["s.zarr"]


def test_a_second_writer_is_refused_naming_the_first(tmp_path, make_metadata, make_frames):
    md = make_metadata(scan_shape=(4, 4))
    path = tmp_path / "s.zarr"
    first = create_dataset(path, md, dtype=np.uint16)
    with pytest.raises(DatasetError, match="another ptyflow process is writing it") as err:
        create_dataset(path, md, dtype=np.uint16, overwrite=True)
    assert f"pid {os.getpid()}" in str(err.value)
    first.write_frames(0, make_frames((4, 4), (16, 16)))
    first.close()
    assert validate_dataset(path) == []  # the refused writer touched nothing
    create_dataset(path, md, dtype=np.uint16, overwrite=True).close()  # free again
