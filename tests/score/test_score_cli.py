"""`ptyflow import` with a truth, then `ptyflow score` on a result store, as a user runs them."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from ptyflow.config import validate_config
from ptyflow.config.import_ import ImportConfig
from ptyflow.dataset import read_truth
from ptyflow.ingest import run_import
from ptyflow.reconstruct import ResultMetadata, write_result
from ptyflow.score._sampling import TruthSampler

from .conftest import smooth_truth

RunCli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def imported(tmp_path: Path) -> tuple[Path, Path, str]:
    """A 20×20 scan imported with a smooth 16 Å truth; returns (store, truth, store hash)."""
    phase = smooth_truth().phase[0]
    np.save(tmp_path / "phase.npy", phase)
    np.save(tmp_path / "frames.npy", np.ones((20, 20, 8, 8), np.float32))
    config = validate_config(
        {
            "beam": {"energy_eV": 300e3, "semiangle_mrad": 20.0},
            "scan": {"shape": [20, 20], "step_A": [0.4, 0.4]},
            "detector": {"pixel_size_inv_A": 0.1},
            "truth": {"path": str(tmp_path / "phase.npy"), "pixel_size_A": 0.1,
                      "origin_A": [-7.95, -7.95]},
        },
        ImportConfig,
    )  # fmt: skip
    result = run_import(config, tmp_path / "frames.npy", tmp_path / "s.zarr", progress=False)
    assert result.truth == tmp_path / "s.truth"
    from ptyflow.provenance import read_record

    return result.store, result.truth, read_record(result.store).outputs[0].content_hash


def _result(path: Path, truth_dir: Path, dataset_hash: str, shift=(0.15, -0.1)) -> Path:
    truth = read_truth(truth_dir)
    n, px, origin = 40, 0.2, (-4.0, -4.0)
    iy, ix = np.indices((n, n)) * px
    phase = TruthSampler(truth, px).sample(origin[0] + iy + shift[0], origin[1] + ix + shift[1])
    metadata = ResultMetadata(
        pixel_size_A=(px, px), origin_A=origin, n_slices=2, slice_thickness_A=1.0,
        energy_eV=3e5, config={}, dataset_content_hash=dataset_hash, iterations=1,
    )  # fmt: skip
    arrays = {
        "object": np.exp(0.5j * np.stack([phase, phase])).astype(np.complex64),
        "probe": np.ones((1, 8, 8), np.complex64),
        "positions_A": truth.nominal_positions_A,
        "loss": np.ones(1),
    }
    write_result(path, metadata, arrays, None)
    return path


def test_imported_truth_is_in_the_scan_frame(imported: tuple[Path, Path, str]) -> None:
    _, truth_dir, _ = imported
    truth = read_truth(truth_dir)
    assert truth.origin_A == pytest.approx((-7.95, -7.95)) and not truth.periodic
    assert np.abs(truth.nominal_positions_A).max() == pytest.approx(3.8)


@pytest.mark.slow
def test_score_cli_json_plot_and_errors(
    imported: tuple[Path, Path, str], tmp_path: Path, run_cli: RunCli
) -> None:
    _, truth_dir, store_hash = imported
    result = _result(tmp_path / "r.zarr", truth_dir, store_hash)
    out = run_cli("score", result, "--truth", truth_dir, "--json", "s.json", "--plot", "s.png")
    assert out.returncode == 0, out.stderr
    metrics = json.loads((tmp_path / "s.json").read_text())
    assert metrics["pearson_r"] > 0.9999 and metrics["gain"] == pytest.approx(1.0, abs=1e-3)
    assert metrics["shift_A"] == pytest.approx([0.15, -0.1], abs=0.01)
    assert not metrics["warnings"] and len(metrics["frc_curve"]["frc"]) > 10
    assert (tmp_path / "s.png").stat().st_size > 10_000
    assert "pearson_r" in out.stdout
    # A result of another dataset: scored, with a warning that names the mix-up.
    other = _result(tmp_path / "o.zarr", truth_dir, "sha256:" + "0" * 64)
    out = run_cli("score", other, "--truth", truth_dir)
    assert out.returncode == 0
    assert "another content hash" in " ".join((out.stdout + out.stderr).split())
    # Bad input: exit 2, the problem named, no traceback.
    out = run_cli("score", result, "--truth", tmp_path / "nope.truth")
    assert out.returncode == 2 and "not a ground-truth directory" in out.stderr
    out = run_cli("score", tmp_path / "s.zarr", "--truth", truth_dir)
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr


@pytest.mark.slow
def test_import_cli_bad_input_exits_2(tmp_path: Path, run_cli: RunCli) -> None:
    np.save(tmp_path / "frames.npy", np.ones((4, 4, 8, 8), np.float32))
    (tmp_path / "c.toml").write_text(
        "[beam]\nenergy_eV = 3e5\nsemiangle_mrad = 20\n[scan]\nshape = [4, 4]\nstep_A = [1, 1]"
        "\n[detector]\npixel_size_inv_A = 0.1\nname_ = 'x'\n"
    )
    out = run_cli("import", "frames.npy", "-c", "c.toml", "-o", "s.zarr")
    assert out.returncode == 2 and "[detector].name_: unknown key" in out.stderr
    assert "did you mean 'name'" in out.stderr and "Traceback" not in out.stderr
    out = run_cli("import", "frames.npy", "-c", "c.toml", "-o", "s.zarr", "--set",
               "detector.name_=", "--set", "scan.shape=[4,5]")  # fmt: skip
    assert out.returncode == 2 and "Traceback" not in out.stderr
