"""The engine on a tiny crop of the reference data: missing frames, determinism, resume,
streaming, the CLI and its errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from ptyflow.config.reconstruct import ReconstructConfig
from ptyflow.dataset import open_dataset
from ptyflow.errors import ProvenanceError
from ptyflow.physics import scan_positions_A
from ptyflow.provenance import check_record, content_hash, read_record, start_record
from ptyflow.reconstruct import open_result, run_reconstruction
from ptyflow.reconstruct._data import FrameSource
from ptyflow.reconstruct._rerun import RERUN
from ptyflow.testing import reference_store

from .conftest import make_config

TINY = ("optimizer.iterations=2", "optimizer.batch_size=16")


@pytest.fixture
def tiny(srtio3_dir: Path, tmp_path: Path) -> Path:
    path = tmp_path / "tiny.zarr"
    reference_store(srtio3_dir, path, "noisy", crop=(slice(12, 20), slice(12, 20)), missing=(5, 40))
    return path


@pytest.mark.parametrize("cache_limit", [2**31, 1])
def test_missing_frames_are_never_used(tiny: Path, cache_limit: int) -> None:
    ds = open_dataset(tiny)
    source = FrameSource(ds, torch.device("cpu"), cache_limit, lambda f: f)
    assert source.cached == (cache_limit > 1)
    seen = []
    for indices, frames, _ in source.batches(np.random.default_rng(0), 7):
        for i, frame in zip(indices.tolist(), frames, strict=True):
            np.testing.assert_array_equal(frame.numpy(), ds.read_frame(i))
            seen.append(i)
    assert sorted(seen) == [i for i in range(64) if i not in (5, 40)]


def test_cpu_reruns_are_bit_identical_and_record_the_dataset(tiny: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "a.zarr", tmp_path / "b.zarr"
    run_reconstruction(tiny, make_config(*TINY), a, progress=False)
    run_reconstruction(tiny, make_config(*TINY), b, progress=False)
    ra, rb = open_result(a), open_result(b)
    np.testing.assert_array_equal(ra.object, rb.object)
    np.testing.assert_array_equal(ra.probe, rb.probe)
    assert ra.positions_A.shape == (64, 2)  # missing frames keep their nominal position
    assert (a / "phase.png").is_file() and (a / "phase.tif").is_file()
    # The result's record names the dataset by content hash and by its record.
    (used,) = read_record(a).inputs
    assert used.content_hash == content_hash(tiny) == ra.metadata.dataset_content_hash
    assert used.record_id == read_record(tiny).record_id
    check_record(a, activity="reconstruct", inputs=[tiny], seeds=["engine.seed"], compute=True)


def test_interrupted_run_resumes_to_the_same_result(tiny: Path, tmp_path: Path) -> None:
    cfg = make_config(
        "optimizer.iterations=4", "optimizer.batch_size=16", "engine.checkpoint_every=2"
    )
    whole, parts = tmp_path / "whole.zarr", tmp_path / "parts.zarr"
    run_reconstruction(tiny, cfg, whole, progress=False)

    def preempt(iteration: int, _model: object) -> None:
        if iteration == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_reconstruction(tiny, cfg, parts, progress=False, on_iteration=preempt)
    assert not parts.exists() and (tmp_path / "parts.zarr.checkpoint.pt").is_file()
    run_reconstruction(tiny, cfg, parts, progress=False, resume=True)
    np.testing.assert_array_equal(open_result(whole).object, open_result(parts).object)
    np.testing.assert_array_equal(open_result(whole).loss, open_result(parts).loss)
    assert not (tmp_path / "parts.zarr.checkpoint.pt").exists()


def _ptyflow(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ptyflow", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_reconstructs_and_info_reads_the_result(tiny: Path, tmp_path: Path) -> None:
    template = Path(__file__).resolve().parents[2] / "configs" / "reconstruct.toml"
    out = tmp_path / "r.zarr"
    done = _ptyflow(
        "reconstruct",
        tiny,
        "-c",
        template,
        "-o",
        out,
        "--no-progress",
        "--set",
        "optimizer.iterations=1",
    )
    assert done.returncode == 0, done.stderr
    info = _ptyflow("info", out)
    assert info.returncode == 0 and "result store" in info.stdout and "0.2034" in info.stdout
    again = _ptyflow("reconstruct", tiny, "-o", out, "--no-progress")
    assert again.returncode == 2 and "exists" in again.stderr and "Traceback" not in again.stderr
    missing = _ptyflow("reconstruct", tmp_path / "nope.zarr", "-o", tmp_path / "x.zarr")
    assert (
        missing.returncode == 2
        and "nope.zarr" in missing.stderr
        and "Traceback" not in missing.stderr
    )
    bad = _ptyflow("reconstruct", tiny, "-o", tmp_path / "y.zarr", "--set", "model.n_slices=0")
    assert bad.returncode == 2 and "n_slices" in bad.stderr


@pytest.mark.parametrize("optimizer", ["sgd", "lbfgs"])
def test_every_option_together(tiny: Path, tmp_path: Path, optimizer: str) -> None:
    """Probe modes, two slices, position and affine refinement, the regularisers."""
    cfg = make_config(
        "optimizer.iterations=2",
        f"optimizer.kind={optimizer!r}",
        "model.n_probe_modes=3",
        "model.n_slices=2",
        "model.slice_thickness_A=5.0",
        "model.tilt_mrad=[1.0, -0.5]",
        "positions.refine=true",
        "positions.refine_affine=true",
        "positions.refine_from_iteration=0",
        "regularize.tv_weight=0.01",
        "regularize.lowpass_inv_A=3.0",
        "regularize.kz_filter_weight=0.2",
        "loss.kind='poisson'",
    )
    run = run_reconstruction(tiny, cfg, tmp_path / "r.zarr", progress=False)
    result = open_result(tmp_path / "r.zarr")
    assert result.object.shape[0] == 2 and result.probe.shape == (3, 64, 64)
    assert np.isfinite(run.loss).all() and np.isfinite(result.object).all()
    assert result.metadata.slice_thickness_A == 5.0
    moved = np.abs(result.positions_A - scan_positions_A((8, 8), (0.4, 0.4))).max()
    assert 0 < moved < 1.0  # refined, and within max_shift_A


def test_a_rerun_needs_the_recorded_config_and_exactly_one_dataset(tmp_path: Path) -> None:
    record = start_record("reconstruct", ReconstructConfig())
    with pytest.raises(ProvenanceError, match=r"2 input\(s\) recorded, re-running it needs 1"):
        RERUN.rerun(record, [tmp_path / "a.zarr", tmp_path / "b.zarr"], tmp_path / "out")
    with pytest.raises(ProvenanceError, match="holds no config"):
        RERUN.rerun(start_record("reconstruct"), [tmp_path / "a.zarr"], tmp_path / "out")
