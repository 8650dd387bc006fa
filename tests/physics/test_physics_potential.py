"""Kirkland potentials: the table, the Fourier-space slice against Kirkland's real-space
formula, and SrTiO3 against the independent abTEM (Lobato) ground truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.special import k0

from ptyflow.errors import PhysicsError
from ptyflow.physics import (
    BOHR_RADIUS_A,
    COULOMB_EV_A,
    CRYSTALS,
    kirkland_parameters,
    known_elements,
    projected_potential,
    remove_atoms,
    scattering_factor_A,
    sigma_rad_per_VA,
    sliced_projected_potential,
    substitute_atoms,
    supercell,
)

A0E = BOHR_RADIUS_A * COULOMB_EV_A  # a0·e [V·Å²]


def test_table_covers_the_needed_elements() -> None:
    needed = ["H", "C", "N", "O", "Si", "S", "Ti", "Fe", "Kr", "Sr", "Mo", "Ba", "Au"]
    assert set(needed) <= set(known_elements())
    assert [kirkland_parameters(e).Z for e in ("H", "O", "Sr", "Ba", "Au")] == [1, 8, 38, 56, 79]


@pytest.mark.parametrize("element", known_elements())
def test_mott_bethe_asymptote(element: str) -> None:
    # At large q only the nuclear charge is seen: f_e → Z/(2π² a0 q²), i.e. Σ a_i = Z/(2π² a0).
    # The fit does not enforce it exactly; every element lies within 7 %.
    p = kirkland_parameters(element)
    assert sum(p.a) == pytest.approx(p.Z / (2 * np.pi**2 * BOHR_RADIUS_A), rel=0.07)
    assert scattering_factor_A(element, np.array(300.0)) * 300**2 == pytest.approx(
        sum(p.a), rel=0.01
    )


def test_unknown_element_is_a_physics_error() -> None:
    with pytest.raises(PhysicsError, match="unknown element 'Xx'"):
        scattering_factor_A("Xx", np.array(0.0))


def kirkland_real_space_vz(element: str, r: np.ndarray) -> np.ndarray:
    """Kirkland's closed-form projected potential [V·Å]: Bessel K0 terms plus Gaussians."""
    p = kirkland_parameters(element)
    v = np.zeros_like(r)
    for a, b, c, d in zip(p.a, p.b, p.c, p.d, strict=True):
        v += 4 * np.pi**2 * A0E * a * k0(2 * np.pi * r * np.sqrt(b))
        v += 2 * np.pi**2 * A0E * c / d * np.exp(-(np.pi**2) * r**2 / d)
    return v


@pytest.mark.parametrize("element", ["O", "Sr", "Au"])
def test_fourier_slice_matches_real_space_formula(element: str) -> None:
    # One atom in an 8 Å periodic cell: the Fourier series equals the sum of the closed form
    # over the periodic images (Poisson summation), up to the ringing of the band limit,
    # which falls as 1/cutoff (0.8 % of v(0.5 Å) at 40 1/Å).
    cell = 8.0
    field = projected_potential(np.array([[4.0, 4.0]]), np.array([element]), (cell, cell), 40.0)
    r = np.linspace(0.5, 2.5, 11)
    ours = field.sample(np.array([4.0]), 4.0 + r)[0].real
    images = [(i, j) for i in range(-3, 4) for j in range(-3, 4)]
    closed = sum(
        kirkland_real_space_vz(element, np.hypot(r + i * cell, j * cell)) for i, j in images
    )
    assert np.abs(ours - closed).max() < 0.01 * closed[0]


def test_slices_hold_their_atomic_planes() -> None:
    atoms = supercell(CRYSTALS["SrTiO3_001"], (1, 1, 2))
    field, dz = sliced_projected_potential(atoms, 3.905 / 2, 2.0)
    np.testing.assert_allclose(dz, [1.9525] * 4)
    # Mean potential of each slice = 2π a0 e Σ f_e(0) / A over its atoms: SrO, TiO2, SrO, TiO2.
    f0 = {e: float(scattering_factor_A(e, np.array(0.0))) for e in ("Sr", "Ti", "O")}
    per_plane = [f0["Sr"] + f0["O"], f0["Ti"] + 2 * f0["O"]] * 2
    expected = 2 * np.pi * A0E * np.array(per_plane) / 3.905**2
    np.testing.assert_allclose(field.coefficients[:, 0, 0].real, expected, rtol=1e-12)


@pytest.mark.shared_data
def test_srtio3_phase_matches_abtem_ground_truth(srtio3_dir: Path) -> None:
    gt = np.load(srtio3_dir / "gt_phase_fine.npy").astype(np.float64)  # 640² over 39.05 Å
    atoms = supercell(CRYSTALS["SrTiO3_001"], (10, 10, 6))
    atoms = substitute_atoms(atoms, "Sr", (6, 4), "Ba", layers=(0, 1, 2))
    atoms = remove_atoms(atoms, "O2", (4, 5))
    cutoff = 4.0
    field, _ = sliced_projected_potential(atoms, 1.9525, cutoff)
    ours = field.sample_cell(gt.shape).real.sum(axis=0) * sigma_rad_per_VA(300e3)
    k = np.fft.fftfreq(gt.shape[0], 39.05 / gt.shape[0])
    band = (k[:, None] ** 2 + k[None, :] ** 2) <= cutoff**2
    gt_band = np.fft.ifft2(np.fft.fft2(gt) * band).real
    r = np.corrcoef(ours.ravel(), gt_band.ravel())[0, 1]
    assert r > 0.999  # Kirkland vs Lobato: measured 0.99998 (mean phase 0.8 % lower)
    assert ours.mean() == pytest.approx(gt.mean(), rel=0.02)
