"""Streamed mode end to end: a reconstruction whose frames stream from the store (they do
not fit under ``engine.cache_limit_bytes``) equals the cached one, and neither ever asks the
model for a missing frame, so none is fitted as zeros. L-BFGS refuses streamed frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ptyflow.errors import ConfigError
from ptyflow.reconstruct import open_result, run_reconstruction
from ptyflow.reconstruct._model import PtychoModel
from ptyflow.testing import reference_store

from .conftest import make_config

MISSING = (5, 40)
RUN = ("optimizer.iterations=2", "optimizer.batch_size=16")


@pytest.fixture
def gappy(srtio3_dir: Path, tmp_path: Path) -> Path:
    """An 8×8 crop (one shard) whose frames 5 and 40 never arrived."""
    path = tmp_path / "gappy.zarr"
    reference_store(srtio3_dir, path, "noisy", crop=(slice(12, 20), slice(12, 20)), missing=MISSING)
    return path


def _reconstruct(
    store: Path, out: Path, cache_limit_bytes: int, monkeypatch: pytest.MonkeyPatch
) -> set[int]:
    """Reconstruct and return the scan indices the model was asked to predict."""
    seen: set[int] = set()
    forward = PtychoModel.forward

    def spy(self: PtychoModel, indices: torch.Tensor) -> torch.Tensor:
        seen.update(indices.tolist())
        return forward(self, indices)

    with monkeypatch.context() as patch:
        patch.setattr(PtychoModel, "forward", spy)
        cfg = make_config(*RUN, f"engine.cache_limit_bytes={cache_limit_bytes}")
        run_reconstruction(store, cfg, out, progress=False)
    return seen


def test_streamed_equals_cached_and_both_skip_missing_frames(
    gappy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cached, streamed = tmp_path / "cached.zarr", tmp_path / "streamed.zarr"
    assert _reconstruct(gappy, cached, 2**31, monkeypatch) == set(range(64)) - set(MISSING)
    # A 1-byte limit: no frame fits, so every pass streams the shard with its read-ahead.
    assert _reconstruct(gappy, streamed, 1, monkeypatch) == set(range(64)) - set(MISSING)
    a, b = open_result(cached), open_result(streamed)
    # One shard holds the whole scan, so both modes draw the same seeded batches: the
    # deterministic CPU runs agree bit for bit.
    np.testing.assert_array_equal(a.object, b.object)
    np.testing.assert_array_equal(a.probe, b.probe)
    np.testing.assert_array_equal(a.loss, b.loss)
    # Missing frames keep their nominal positions in the result, and nothing else of them.
    np.testing.assert_array_equal(a.positions_A, b.positions_A)


def test_lbfgs_refuses_streamed_frames(gappy: Path, tmp_path: Path) -> None:
    cfg = make_config("optimizer.kind='lbfgs'", "engine.cache_limit_bytes=1")
    with pytest.raises(ConfigError, match=r"cache_limit_bytes.*optimizer\.kind = 'adam'"):
        run_reconstruction(gappy, cfg, tmp_path / "r.zarr", progress=False)
    assert not (tmp_path / "r.zarr").exists()
