"""The simulation window: k = 0 pixel, coverage of the detector, and refusals."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ptyflow.errors import PhysicsError
from ptyflow.physics import Aberrations, Probe
from ptyflow.simulate import SimulationWindow


@pytest.mark.parametrize(("shape", "b"), [((64, 64), 3), ((31, 48), 1), ((16, 20), 5)])
def test_k_zero_lands_on_pixel_n_over_2(shape: tuple[int, int], b: int) -> None:
    window = SimulationWindow.for_detector(shape, 0.07, b)
    n = window.size
    for fine_offset, pixel_offset in [((0, 0), (0, 0)), ((0, b // 2), (0, 0)), ((b, -b), (1, -1))]:
        intensity = torch.zeros(1, n, n, dtype=torch.float32)
        intensity[0, fine_offset[0] % n, fine_offset[1] % n] = 1.0
        det = window.bin_to_detector(intensity)[0].numpy()
        expected = (shape[0] // 2 + pixel_offset[0], shape[1] // 2 + pixel_offset[1])
        assert np.unravel_index(det.argmax(), det.shape) == expected and det.sum() == 1.0


@pytest.mark.parametrize(("shape", "b"), [((64, 64), 3), ((128, 96), 1)])
def test_band_limit_reaches_the_detector_corners(shape: tuple[int, int], b: int) -> None:
    pixel = 0.05
    window = SimulationWindow.for_detector(shape, pixel, b)
    corner = np.hypot(*[(n // 2 + 0.5) * pixel for n in shape])
    assert window.grid.antialias_cutoff_inv_A >= corner
    assert window.grid.reciprocal_sampling_inv_A[0] == pytest.approx(pixel / b)
    iy, ix = (i.numpy() for i in window.binning.indices())
    assert len(set(iy)) == iy.size and len(set(ix)) == ix.size  # no fine pixel used twice


def test_max_angle_widens_the_window() -> None:
    plain = SimulationWindow.for_detector((32, 32), 0.1, 1)
    wide = SimulationWindow.for_detector((32, 32), 0.1, 1, min_cutoff_inv_A=6.0)
    assert wide.grid.antialias_cutoff_inv_A >= 6.0 > plain.grid.antialias_cutoff_inv_A


def test_huge_detector_is_refused() -> None:
    with pytest.raises(PhysicsError, match=r"detector\.shape"):
        SimulationWindow.for_detector((1024, 1024), 0.05, 5)


def test_probe_wider_than_window_is_refused() -> None:
    window = SimulationWindow.for_detector((32, 32), 0.2, 1)  # 5 Å window
    wide = Probe(energy_eV=300e3, semiangle_mrad=30.0, aberrations=Aberrations(C10_A=-400.0))
    with pytest.raises(PhysicsError, match=r"detector\.pixel_size_inv_A"):
        window.check_probe(wide)


def test_aperture_finer_than_k_sampling_is_refused() -> None:
    window = SimulationWindow.for_detector((32, 32), 0.5, 1)  # 0.5 1/Å pixels
    with pytest.raises(PhysicsError, match="aperture spans only"):
        window.check_probe(Probe(energy_eV=300e3, semiangle_mrad=10.0))
