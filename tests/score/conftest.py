"""A synthetic ground truth (a smooth random phase crop) and the SrTiO3 reference truth."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import ndimage

from ptyflow.dataset import GroundTruth
from ptyflow.physics import scan_positions_A

#: The reference truth's grid and the natural reconstruction pixel of the reference data.
RECON_PIXEL_A = 0.20338541666666665


def smooth_truth(
    shape: tuple[int, int] = (160, 160),
    pixel_A: float = 0.1,
    scan_shape: tuple[int, int] = (20, 20),
    step_A: float = 0.4,
    rotation_deg: float = 0.0,
    seed: int = 0,
) -> GroundTruth:
    """A cropped (non-periodic) random phase, features ~0.5 Å, the scan in its middle."""
    rng = np.random.default_rng(seed)
    phase = ndimage.gaussian_filter(rng.normal(size=shape), 2.5) * 20.0
    nominal = scan_positions_A(scan_shape, (step_A, step_A), rotation_deg)
    origin = (-(shape[0] - 1) / 2 * pixel_A, -(shape[1] - 1) / 2 * pixel_A)
    return GroundTruth(
        Path("synthetic.truth"),
        phase[None].astype(np.float32),
        pixel_A,
        origin,
        False,
        nominal,
        nominal,
    )


@pytest.fixture(scope="session")
def srtio3_truth(srtio3_dir: Path, srtio3_meta: dict[str, Any]) -> GroundTruth:
    """The abTEM truth (one period, pixel (0, 0) at the abTEM origin) in the scan frame."""
    info = srtio3_meta["ground_truth"]["gt_phase_fine.npy"]
    positions = np.load(srtio3_dir / "scan_positions_ang.npy").astype(np.float64)
    centre = positions.mean(axis=0)
    phase = np.load(srtio3_dir / "gt_phase_fine.npy")[None]
    return GroundTruth(
        srtio3_dir,
        phase,
        info["pixel_A"],
        (-centre[0], -centre[1]),
        True,
        positions - centre,
        positions - centre,
    )
