"""Vacuum patterns: the aperture disk, the electrons on the detector, and abTEM's probe."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from scipy.integrate import quad

from ptyflow.config.simulate import SimulateConfig
from ptyflow.simulate import plan_simulation

MakeConfig = Callable[..., SimulateConfig]


def vacuum_patterns(
    make_config: MakeConfig, image: Path, **sections: object
) -> tuple[np.ndarray, float, float]:
    """Noise-free vacuum patterns [electrons] of a 2×2 scan, and the disk radius [pixels]."""
    vacuum = {
        "specimen": {"kind": "phase_image", "path": str(image), "pixel_size_A": 0.5},
        "scan": {"shape": [2, 2]},
    }
    cfg = make_config(vacuum, **sections)
    plan = plan_simulation(cfg)
    patterns = plan.simulator.intensities(plan.positions_A) * plan.electrons_per_position
    radius_px = (
        cfg.beam.semiangle_mrad * 1e-3 / cfg.beam.wavelength_A / cfg.detector.pixel_size_inv_A
    )
    return patterns, plan.electrons_per_position, radius_px


@pytest.fixture
def vacuum(phase_image: Callable[[np.ndarray], Path]) -> Path:
    return phase_image(np.zeros((40, 40)))


def test_vacuum_pattern_holds_every_electron(make_config: MakeConfig, vacuum: Path) -> None:
    # 21.4 mrad at 300 keV is 1.087 1/Å: inside a 32 × 0.1 1/Å detector.
    patterns, electrons, _ = vacuum_patterns(make_config, vacuum)
    np.testing.assert_allclose(patterns.sum(axis=(1, 2)), electrons, rtol=1e-5)


def test_vacuum_disk_radius_and_centre(make_config: MakeConfig, vacuum: Path) -> None:
    patterns, _, radius_px = vacuum_patterns(
        make_config,
        vacuum,
        detector={"shape": [48, 48], "pixel_size_inv_A": 0.05},
        numerics={"oversampling": 3},
    )
    for p in patterns:
        ky, kx = np.indices(p.shape)
        assert (p * ky).sum() / p.sum() == pytest.approx(24.0, abs=1e-4)  # k = 0 at (n//2, n//2)
        assert (p * kx).sum() / p.sum() == pytest.approx(24.0, abs=1e-4)
        # A flat disk: total / plateau = area in pixels. The soft edge (a linear ramp of A
        # over one fine pixel, 1/b detector pixels) integrates like a radius 1/(6b) smaller.
        area_px = p.sum() / p[24, 24]
        assert np.sqrt(area_px / np.pi) == pytest.approx(radius_px - 1 / 18, rel=5e-4)


def circle_rectangle_area(radius: float, y: tuple[float, float], x: tuple[float, float]) -> float:
    """Area of the disk |k| ≤ radius inside the rectangle y0 ≤ ky ≤ y1, x0 ≤ kx ≤ x1."""

    def chord(u: float) -> float:
        half = np.sqrt(max(radius**2 - u**2, 0.0))
        return max(min(y[1], half) - max(y[0], -half), 0.0)

    return quad(chord, max(x[0], -radius), min(x[1], radius), limit=200)[0]


def test_aperture_larger_than_detector_gives_circle_square_fraction(
    make_config: MakeConfig, vacuum: Path
) -> None:
    b = 3
    patterns, electrons, radius_px = vacuum_patterns(
        make_config,
        vacuum,
        detector={"shape": [16, 16], "pixel_size_inv_A": 0.1},
        numerics={"oversampling": b},
    )
    # In simulated (fine) pixels the detector spans [−8.5·b, 7.5·b] per axis, k = 0 at 0.
    # The soft edge ramps the amplitude A linearly from 1 to 0 across one fine pixel, so
    # A² integrates like a sharp disk of radius r − 1/6 (∫ ramp² = 1/3 of a pixel).
    r = radius_px * b - 1 / 6
    inside = circle_rectangle_area(r, (-8.5 * b, 7.5 * b), (-8.5 * b, 7.5 * b))
    expected = inside / (np.pi * r**2)
    np.testing.assert_allclose(patterns.sum(axis=(1, 2)) / electrons, expected, rtol=1e-3)
    assert expected < 0.9


@pytest.mark.shared_data
def test_matches_abtem_vacuum_probe(
    make_config: MakeConfig, vacuum: Path, srtio3_dir: Path
) -> None:
    reference = np.load(srtio3_dir / "vacuum_probe.npy")
    patterns, electrons, _ = vacuum_patterns(
        make_config,
        vacuum,
        beam={"energy_eV": 300e3, "semiangle_mrad": 21.4, "aberrations": {"C10_A": -100.0}},
        detector={"shape": [64, 64], "pixel_size_inv_A": 0.0768245838668374},
        numerics={"oversampling": 3},
        scan={"step_A": [0.4, 0.4]},
    )
    assert electrons == pytest.approx(16000.0)
    for p in patterns:
        deviation = np.abs(p - reference).max() / reference.max()
        r = np.corrcoef(p.ravel(), reference.ravel())[0, 1]
        # Measured: deviation 2.8e-6 of the peak (float32), r = 1 − 2e-13.
        assert deviation < 1e-4
        assert r > 1 - 1e-9
