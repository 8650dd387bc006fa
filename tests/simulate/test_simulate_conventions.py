"""Conventions end to end, through the whole simulator: phase sign and scan rotation."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from ptyflow.config.simulate import SimulateConfig
from ptyflow.simulate import plan_simulation

MakeConfig = Callable[..., SimulateConfig]
N_IMAGE, PIXEL_A = 96, 0.125  # a 12 Å phase image


def gaussian(y0: float, x0: float, sigma: float) -> np.ndarray:
    y, x = np.indices((N_IMAGE, N_IMAGE)) * PIXEL_A  # image pixel (i, j) sits at (i, j)·pixel
    return np.exp(-((y - y0) ** 2 + (x - x0) ** 2) / (2 * sigma**2))


def image_config(make_config: MakeConfig, path: Path, **sections: object) -> SimulateConfig:
    return make_config(
        {"specimen": {"kind": "phase_image", "path": str(path), "pixel_size_A": PIXEL_A}},
        **sections,
    )


@pytest.mark.parametrize(("dy", "dx"), [(0.0, 0.8), (0.0, -0.8), (0.8, 0.0), (-0.8, 0.0)])
def test_positive_phase_pulls_the_beam_towards_itself(
    make_config: MakeConfig, phase_image: Callable[[np.ndarray], Path], dy: float, dx: float
) -> None:
    # A positive phase bump beside the probe: the pattern's centre of mass moves towards it.
    path = phase_image(0.8 * gaussian(6.0 + dy, 6.0 + dx, 0.6))
    cfg = image_config(
        make_config,
        path,
        scan={"shape": [1, 1], "center_A": [6.0, 6.0]},
        beam={"energy_eV": 300e3, "semiangle_mrad": 21.4, "aberrations": {"C10_A": 0.0}},
    )
    plan = plan_simulation(cfg)
    pattern = plan.simulator.intensities(plan.positions_A)[0]
    ky, kx = np.indices(pattern.shape) - 16  # k = 0 at pixel (16, 16)
    com = np.array([(pattern * ky).sum(), (pattern * kx).sum()]) / pattern.sum()
    assert np.sign(com[0]) == np.sign(dy) or dy == 0.0
    assert np.sign(com[1]) == np.sign(dx) or dx == 0.0
    assert np.hypot(*com) > 0.1 and abs(com[0 if dy == 0 else 1]) < 1e-4


def virtual_bright_field(make_config: MakeConfig, path: Path, rotation_deg: float) -> np.ndarray:
    cfg = image_config(
        make_config,
        path,
        scan={"shape": [7, 7], "step_A": [0.6, 0.6], "rotation_deg": rotation_deg},
    )
    plan = plan_simulation(cfg)
    patterns = plan.simulator.intensities(plan.positions_A)
    ky, kx = np.indices(patterns.shape[1:]) - 16
    inner = np.hypot(ky, kx) < 5  # well inside the 10.9-pixel bright-field disk
    return (patterns * inner).sum(axis=(1, 2)).reshape(7, 7)


def test_scan_rotation_90_is_rot90(
    make_config: MakeConfig, phase_image: Callable[[np.ndarray], Path]
) -> None:
    # An asymmetric object: an L of phase bumps, so every rotation and flip looks different.
    path = phase_image(
        gaussian(5.0, 5.0, 0.5)
        + gaussian(6.5, 5.0, 0.5)
        + gaussian(8.0, 5.0, 0.5)
        + gaussian(8.0, 6.5, 0.5)
    )
    plain = virtual_bright_field(make_config, path, 0.0)
    turned = virtual_bright_field(make_config, path, 90.0)
    contrast = plain.max() - plain.min()
    assert contrast > 1e-3
    # Fast axis along +y at 90°: image[iy, ix] samples (y, x) = (ix, −iy)·step, = rot90 (k=1).
    np.testing.assert_allclose(turned, np.rot90(plain), atol=1e-4 * contrast)
    for wrong in (np.rot90(plain, -1), plain.T, np.rot90(plain, 2)):
        assert np.abs(turned - wrong).max() > 0.05 * contrast
