"""Wavelength and interaction constant against the reference metadata and textbook values."""

from __future__ import annotations

import math
from typing import Any

import pytest

from ptyflow.errors import PhysicsError
from ptyflow.physics import BOHR_RADIUS_A, COULOMB_EV_A, sigma_rad_per_VA, wavelength_A


@pytest.mark.shared_data
def test_wavelength_and_sigma_match_reference_metadata(srtio3_meta: dict[str, Any]) -> None:
    energy = srtio3_meta["energy_eV"]
    assert wavelength_A(energy) == pytest.approx(srtio3_meta["wavelength_A"], rel=1e-6)
    assert sigma_rad_per_VA(energy) == pytest.approx(srtio3_meta["sigma_rad_per_VA"], rel=1e-6)


@pytest.mark.parametrize(
    ("energy_eV", "lam_A"),
    # Textbook relativistic wavelengths at 100, 200 and 300 keV.
    [(100e3, 0.03701), (200e3, 0.02508), (300e3, 0.01969)],
)
def test_textbook_wavelengths(energy_eV: float, lam_A: float) -> None:
    assert wavelength_A(energy_eV) == pytest.approx(lam_A, abs=1e-5)


def test_sigma_nonrelativistic_limit() -> None:
    # Without the relativistic mass, σ = π/(λE) for small E: check the ratio approaches 1.
    e = 100.0  # eV
    assert sigma_rad_per_VA(e) * wavelength_A(e) * e / math.pi == pytest.approx(1.0, rel=1e-3)


def test_kirkland_constants() -> None:
    assert pytest.approx(0.529177, rel=1e-6) == BOHR_RADIUS_A
    assert pytest.approx(14.3996, rel=1e-5) == COULOMB_EV_A


@pytest.mark.parametrize("bad", [0.0, -300e3, math.inf, math.nan])
def test_bad_energy_is_a_physics_error(bad: float) -> None:
    with pytest.raises(PhysicsError, match="energy_eV"):
        wavelength_A(bad)
