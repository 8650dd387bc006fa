"""The reconstructor validated against ptyflow's own simulator, scored by ``ptyflow score``.

Each test simulates a tiny thin specimen with a known ground truth, reconstructs it and
scores the result: low-dose contrast, the scan-rotation sign, position refinement, the
L-BFGS optimiser. Scans are small and iterations few; the point each one proves still
shows. (Checkpoint then resume: ``test_reconstruct_engine.py``.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ptyflow.config import validate_config
from ptyflow.config.reconstruct import ReconstructConfig
from ptyflow.config.simulate import SimulateConfig
from ptyflow.dataset import open_dataset, read_truth
from ptyflow.reconstruct import estimate_rotation_deg, open_result, run_reconstruction
from ptyflow.score import Score, score_result
from ptyflow.simulate import run_simulation
from ptyflow.testing import merge_sections

# Reconstructions: seconds each on 2 free cores, far longer on a shared machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def _simulate(path: Path, **sections: Any) -> Path:
    """One SrTiO3 unit cell thick (3.9 Å: a thin, single-slice specimen), a 12×12 scan."""
    base = {
        "specimen": {"kind": "crystal", "crystal": "SrTiO3_001", "repeats": [4, 4, 1]},
        "scan": {"shape": [12, 12], "step_A": [0.4, 0.4]},
        "dose": {"dose_e_per_A2": 1e5, "poisson_noise": False},
        "numerics": {"oversampling": 1},
    }
    config = validate_config(merge_sections(base, sections), SimulateConfig)
    return run_simulation(config, path, progress=False).store


def _reconstruct(store: Path, out: Path, **sections: Any) -> Path:
    config = validate_config(merge_sections({"optimizer": {"iterations": 10}}, sections),
                             ReconstructConfig)  # fmt: skip
    return run_reconstruction(store, config, out, progress=False).result


def _score(result: Path, store: Path) -> Score:
    return score_result(result, store.with_suffix(".truth"))[0]


def test_low_dose_default_loss_keeps_the_contrast(tmp_path: Path) -> None:
    # 2×10⁴ e/Å²: 3,200 electrons per position, ~5 counts per pixel in the bright field.
    low = {"scan": {"shape": [16, 16]}, "dose": {"dose_e_per_A2": 2e4}}
    free = _simulate(tmp_path / "free.zarr", **low)
    noisy = _simulate(
        tmp_path / "noisy.zarr", **merge_sections(low, {"dose": {"poisson_noise": True}})
    )
    reference = _score(_reconstruct(free, tmp_path / "free.r.zarr", optimizer={"iterations": 20}),
                       free)  # fmt: skip
    score = _score(_reconstruct(noisy, tmp_path / "noisy.r.zarr", optimizer={"iterations": 20}),
                   noisy)  # fmt: skip
    print(f"noise-free r {reference.pearson_r:.4f} gain {reference.gain:.3f}; "
          f"Poisson r {score.pearson_r:.4f} gain {score.gain:.3f}")  # fmt: skip
    assert score.gain == pytest.approx(1.0, abs=0.15)
    assert score.pearson_r > reference.pearson_r - 0.03


def test_scan_rotation_sign_is_honoured_and_estimated(tmp_path: Path) -> None:
    store = _simulate(tmp_path / "rot.zarr", scan={"shape": [16, 16], "rotation_deg": 12.0})
    live = open_dataset(store).live_images
    estimate, transposed = estimate_rotation_deg(live["com_y"], live["com_x"])
    assert estimate == pytest.approx(12.0, abs=2.0) and not transposed
    right = _score(_reconstruct(store, tmp_path / "right.zarr"), store)
    wrong = _score(
        _reconstruct(store, tmp_path / "wrong.zarr",
                     scan_rotation={"source": "value", "rotation_deg": -12.0}),
        store,
    )  # fmt: skip
    print(f"+12° (metadata) r {right.pearson_r:.4f}; -12° r {wrong.pearson_r:.4f}; "
          f"estimated {estimate:.2f}°")  # fmt: skip
    assert right.pearson_r > 0.98 and right.gain == pytest.approx(1.0, abs=0.1)
    assert wrong.pearson_r < 0.6  # the wrong sign scrambles the image


def test_position_refinement_recovers_position_errors(tmp_path: Path) -> None:
    # 16×16: enough overlap around each position to pin it down
    store = _simulate(tmp_path / "jitter.zarr", scan={"shape": [16, 16], "jitter_A": 0.3})
    truth = read_truth(store.with_suffix(".truth"))

    def errors_A(positions: np.ndarray) -> np.ndarray:
        error = positions - truth.positions_A
        error -= np.median(error, axis=0)  # a common shift only moves the object
        return np.hypot(*error.T)

    plain = _reconstruct(store, tmp_path / "plain.zarr", optimizer={"iterations": 20})
    refined = _reconstruct(
        store,
        tmp_path / "refined.zarr",
        optimizer={"iterations": 20, "lr_positions_A": 0.05},
        positions={"refine": True},
    )
    before, after = errors_A(truth.nominal_positions_A), errors_A(open_result(refined).positions_A)
    r_plain, r_refined = _score(plain, store).pearson_r, _score(refined, store).pearson_r
    print(f"position error median: nominal {np.median(before):.3f} Å, refined "
          f"{np.median(after):.3f} Å, {np.mean(after < 0.1):.1%} within 0.1 Å; r {r_plain:.4f} "
          f"without refinement, {r_refined:.4f} with")  # fmt: skip
    assert np.median(before) > 0.25
    assert np.median(after) < 0.05 and np.mean(after < 0.1) > 0.95
    assert r_refined > max(0.98, r_plain + 0.05)


def test_lbfgs_reconstructs_a_thin_specimen(tmp_path: Path) -> None:
    store = _simulate(tmp_path / "thin.zarr")
    score = _score(_reconstruct(store, tmp_path / "r.zarr", optimizer={"kind": "lbfgs"}), store)
    print(f"L-BFGS, 10 passes: r {score.pearson_r:.4f} gain {score.gain:.3f}")
    assert score.pearson_r > 0.98 and score.gain == pytest.approx(1.0, abs=0.1)
