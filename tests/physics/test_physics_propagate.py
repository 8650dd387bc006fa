"""Propagation equals a change of C10; a positive phase deflects the beam towards itself."""

from __future__ import annotations

import numpy as np
import pytest

from ptyflow.physics import Aberrations, Grid, Probe, fresnel_propagator, transmission

GRID = Grid((192, 192), (0.1, 0.1))


def test_propagating_dz_adds_dz_to_c10() -> None:
    p = Probe(energy_eV=200e3, semiangle_mrad=25.0, aberrations=Aberrations(C10_A=-40.0, C30_A=1e5))
    moved = p.fourier(GRID) * fresnel_propagator(GRID, p.wavelength_A, 15.0, bandlimit=False)
    shifted = p.model_copy(update={"aberrations": Aberrations(C10_A=-25.0, C30_A=1e5)})
    np.testing.assert_allclose(moved, shifted.fourier(GRID), atol=1e-12)


def test_bandlimited_propagator_is_zero_beyond_two_thirds_nyquist() -> None:
    prop = fresnel_propagator(GRID, 0.02, 10.0)
    k = np.sqrt(GRID.k2())
    k_nyquist = 1 / (2 * 0.1)
    assert np.all(prop[k > 2 / 3 * k_nyquist + 1e-9] == 0)
    assert np.allclose(np.abs(prop[k <= 2 / 3 * k_nyquist - 1e-9]), 1.0)


@pytest.mark.parametrize("side", [+1, -1])
def test_positive_phase_deflects_beam_towards_itself(side: int) -> None:
    # A focused probe at the centre; a positive Gaussian phase bump 1 Å to its side along x.
    p = Probe(energy_eV=300e3, semiangle_mrad=20.0)
    psi = p.real_space(GRID)
    y, x = (np.indices(GRID.shape) - 96) * 0.1
    bump = 0.5 * np.exp(-((x - side * 1.0) ** 2 + y**2) / (2 * 0.8**2))
    far = np.abs(np.fft.fftshift(np.fft.fft2(psi * transmission(bump), norm="ortho"))) ** 2
    ky, kx = np.indices(far.shape) - 96
    com_kx = (far * kx).sum() / far.sum()
    com_ky = (far * ky).sum() / far.sum()
    assert np.sign(com_kx) == side and abs(com_kx) > 0.1
    assert abs(com_ky) < 1e-6


def test_transmission_phase_sign() -> None:
    assert np.angle(transmission(np.array(0.3))) == pytest.approx(0.3)


@pytest.mark.parametrize("dz_A", [200.0, -150.0])
def test_tilted_beam_walks_along_its_tilt(dz_A: float) -> None:
    # An analytic pin of the propagator's absolute sign (no reference data needed): a wave
    # packet with mean spatial frequency k0 travels at angle λ·k0, so after dz its centre
    # has moved by +λ·dz·k0 (numpy's ifft: ψ(r) = Σ ψ(k) exp(+2πi k·r)).
    grid = Grid((256, 256), (0.1, 0.1))
    lam, k0 = 0.02, (0.8, -1.2)  # [Å], [1/Å]
    ky, kx = grid.frequencies()
    packet_k = np.exp(-((ky - k0[0]) ** 2 + (kx - k0[1]) ** 2) / (2 * 0.3**2))
    propagated = np.fft.ifft2(packet_k * fresnel_propagator(grid, lam, dz_A, bandlimit=False))
    intensity = np.fft.fftshift(np.abs(propagated) ** 2)
    y, x = (np.arange(n) - n // 2 for n in grid.shape)
    centre_y = (intensity.sum(axis=1) * y).sum() / intensity.sum() * grid.sampling_A[0]
    centre_x = (intensity.sum(axis=0) * x).sum() / intensity.sum() * grid.sampling_A[1]
    assert centre_y == pytest.approx(lam * dz_A * k0[0], abs=1e-6)
    assert centre_x == pytest.approx(lam * dz_A * k0[1], abs=1e-6)
