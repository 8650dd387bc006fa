"""The writer refuses values a store cannot hold faithfully, before storing any of them."""

from __future__ import annotations

import numpy as np
import pytest

from ptyflow.dataset import create_dataset, open_dataset
from ptyflow.errors import DatasetError


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_float_frames_are_refused(tmp_path, make_metadata, bad) -> None:
    md = make_metadata((2, 2), (4, 4))
    frames = np.ones((4, 4, 4), np.float32)
    frames[2, 1, 3] = bad
    with create_dataset(tmp_path / "f.zarr", md, dtype=np.float32) as writer:
        writer.write_frames(0, frames[:2])
        with pytest.raises(DatasetError, match=r"frame 2 \(1, 0\) holds NaN or infinity"):
            writer.write_frames(2, frames[2:])
    ds = open_dataset(tmp_path / "f.zarr")
    assert ds.frames_received.tolist() == [[True, True], [False, False]]  # nothing of the call
    assert [index for index, _ in ds.iter_frames()] == [(0, 0), (0, 1)]
