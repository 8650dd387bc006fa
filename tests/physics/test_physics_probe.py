"""The probe: aperture size and centre, normalisation, and the sign of defocus."""

from __future__ import annotations

import numpy as np
import pytest

from ptyflow.physics import (
    Aberrations,
    Grid,
    Probe,
    center_pixel,
    fresnel_propagator,
    soft_aperture,
)

GRID = Grid((256, 256), (0.1, 0.1))  # 25.6 Å window, dk = 0.039 1/Å


def probe(**aberrations: float) -> Probe:
    return Probe(energy_eV=300e3, semiangle_mrad=21.4, aberrations=Aberrations(**aberrations))


def test_fourier_probe_is_normalised_and_real_space_too() -> None:
    p = probe(C10_A=-100.0, C30_A=1e5)
    assert np.sum(np.abs(p.fourier(GRID)) ** 2) == pytest.approx(1.0, rel=1e-12)
    assert np.sum(np.abs(p.real_space(GRID)) ** 2) == pytest.approx(1.0, rel=1e-12)


def test_aperture_area_is_pi_alpha_squared() -> None:
    # The soft edge spreads one pixel but keeps the disk area: Σ A = π r² in pixels.
    p = probe()
    r_px = p.semiangle_mrad * 1e-3 / p.wavelength_A * GRID.extent_A[0]
    area = soft_aperture(GRID, p.wavelength_A, p.semiangle_mrad).sum()
    assert area == pytest.approx(np.pi * r_px**2, rel=2e-3)


def test_aperture_edge_is_one_pixel_wide() -> None:
    p = probe()
    a = np.fft.fftshift(soft_aperture(GRID, p.wavelength_A, p.semiangle_mrad))
    row = a[128, 128:]  # k along +kx from k = 0
    r_px = p.semiangle_mrad * 1e-3 / p.wavelength_A * GRID.extent_A[0]
    partial = np.flatnonzero((row > 0) & (row < 1))
    assert partial.size == 1 and abs(partial[0] - r_px) <= 0.5


def test_real_space_probe_centred_on_n_over_2() -> None:
    intensity = np.abs(probe().real_space(GRID)) ** 2
    assert np.unravel_index(np.argmax(intensity), intensity.shape) == (128, 128)
    # Symmetric under r → −r about pixel 128 (on the periodic grid, i ↦ 256 − i).
    mirrored = np.roll(intensity[::-1, ::-1], 1, axis=(0, 1))
    np.testing.assert_allclose(mirrored, intensity, atol=1e-15)


def peak_intensity(psi_k: np.ndarray) -> float:
    return float(np.max(np.abs(np.fft.ifft2(psi_k, norm="ortho")) ** 2))


def test_defocus_sign_c10_minus_100_focuses_100_A_downstream() -> None:
    lam = probe().wavelength_A
    focused = probe().fourier(GRID)
    underfocused = probe(C10_A=-100.0).fourier(GRID)
    # Propagated 100 Å, the C10 = −100 Å probe is the focused probe (to float precision) ...
    at_100 = underfocused * fresnel_propagator(GRID, lam, 100.0, bandlimit=False)
    np.testing.assert_allclose(at_100, focused, atol=1e-12)
    # ... and its peak is brightest there, not at 80 or 120 Å, nor at the entrance (0 Å).
    peaks = {
        dz: peak_intensity(underfocused * fresnel_propagator(GRID, lam, dz, bandlimit=False))
        for dz in (0.0, 80.0, 100.0, 120.0)
    }
    assert max(peaks, key=lambda dz: peaks[dz]) == 100.0
    assert peaks[100.0] > 3 * peaks[0.0]


@pytest.mark.parametrize("n", [1, 2, 63, 64, 65])
def test_center_pixel_is_where_fftshift_puts_zero_frequency(n: int) -> None:
    k = np.fft.fftshift(np.fft.fftfreq(n))
    assert center_pixel((n, n + 1)) == (int(np.argmin(np.abs(k))), (n + 1) // 2)


def test_aperture_radius_is_semiangle_over_wavelength() -> None:
    probe = Probe(energy_eV=300e3, semiangle_mrad=21.4)
    # 21.4 mrad / 0.0196875 Å (300 keV): the reference disk radius, 14.149 px of 0.0768 1/Å.
    assert probe.aperture_radius_inv_A / 0.0768245838668374 == pytest.approx(14.1489, abs=1e-3)
