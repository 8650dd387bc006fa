"""ptyflow's scorer agrees with the independent ../shared/tools/score.py on the same inputs."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from scipy import ndimage

from ptyflow.dataset import GroundTruth
from ptyflow.score import score_phase
from ptyflow.score._sampling import TruthSampler

from .conftest import RECON_PIXEL_A

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]


def _reference_scorer(srtio3_dir: Path) -> ModuleType:
    path = srtio3_dir / ".." / ".." / "tools" / "score.py"
    if not path.is_file():
        pytest.skip(f"reference scorer not found at {path.resolve()}")
    pytest.importorskip("skimage", reason="score.py needs scikit-image")
    spec = importlib.util.spec_from_file_location("shared_score", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_blurred_shifted_noisy_truth_scores_alike(
    srtio3_dir: Path, srtio3_meta: dict[str, Any], srtio3_truth: GroundTruth
) -> None:
    reference = _reference_scorer(srtio3_dir)
    # A fake reconstruction: the truth on the natural grid, 0.17 Å off its calibration,
    # blurred, weakened and noisy, so no metric is trivially perfect.
    n, px = 96, RECON_PIXEL_A
    origin = (-9.7, -9.9)  # scan frame, centre of pixel (0, 0)
    true_shift = (0.11, -0.13)
    iy, ix = np.indices((n, n)) * px
    image = TruthSampler(srtio3_truth, px).sample(
        origin[0] + iy + true_shift[0], origin[1] + ix + true_shift[1]
    )
    rng = np.random.default_rng(7)
    image = 0.6 * ndimage.gaussian_filter(image, 0.8) + rng.normal(0, 0.25, image.shape)

    ours = score_phase(image, px, origin, srtio3_truth)

    centre = -np.asarray(srtio3_truth.origin_A)  # the scan centre in the abTEM frame
    field = np.asarray(srtio3_meta["scan_field_yx_A"])
    origin_gt = np.asarray(origin) + centre
    roi = [*((field[0] - origin_gt[0]) / px), *((field[1] - origin_gt[1]) / px)]
    theirs, _ = reference.score(
        image,
        px,
        np.load(srtio3_dir / "gt_phase_fine.npy"),
        srtio3_meta["ground_truth"]["gt_phase_fine.npy"]["pixel_A"],
        roi=roi,
        margin_A=1.0,
        scan_field=srtio3_meta["scan_field_yx_A"],
        expected_origin=origin_gt.tolist(),
    )
    print(f"ptyflow: {ours.to_dict(curve=False)}")
    print(
        f"score.py: r={theirs['pearson_r']:.4f} gain_gt_on_recon={theirs['gain_a']:.4f} "
        f"FRC 1/7 {theirs['frc_res_A_1over7']:.3f} Å, origin {theirs['recon_origin_gt_yx_A']}"
    )
    assert ours.pearson_r == pytest.approx(theirs["pearson_r"], abs=0.005)
    # score.py fits truth on result, ptyflow result on truth: the two slopes multiply to r².
    assert ours.gain * theirs["gain_a"] == pytest.approx(ours.pearson_r**2, rel=0.02)
    assert ours.frc.resolution_A == pytest.approx(theirs["frc_res_A_1over7"], rel=0.1)
    registered_origin = origin_gt + np.asarray(ours.shift_A)
    assert registered_origin == pytest.approx(theirs["recon_origin_gt_yx_A"], abs=0.02)
    assert ours.shift_A == pytest.approx(true_shift, abs=0.1)  # noise-limited
