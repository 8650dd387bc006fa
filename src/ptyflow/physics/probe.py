"""The convergent-beam probe: a soft-edged aperture times the aberration phase factor.

In Fourier space the probe is ψ(k) = A(k)·exp(−iχ(k)) (Krivanek C_nm, see
:mod:`ptyflow.physics.aberrations`), normalised so that Σ_k |ψ(k)|² = 1 over the grid: the
unscattered far-field pattern sums to 1. Fourier transforms use ``norm="ortho"``, so the
real-space probe has Σ_r |ψ(r)|² = 1 as well.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from pydantic import Field

from ptyflow._models import PositiveFloat, StrictModel
from ptyflow.physics.aberrations import Aberrations, aberration_phase
from ptyflow.physics.constants import wavelength_A
from ptyflow.physics.grid import Grid

__all__ = ["Probe", "soft_aperture"]


def soft_aperture(grid: Grid, wavelength_A: float, semiangle_mrad: float) -> NDArray[np.float64]:
    """Aperture amplitude A(k) in [0, 1], FFT order, with an edge anti-aliased over one pixel.

    A = clip((α_c − α)/Δα + 1/2, 0, 1) with α = λ|k| and Δα = λ·dk the angular pixel size
    (the abTEM default soft aperture), so the disk's area equals π α_c² to first order.
    """
    ky, kx = grid.frequencies()
    dky, dkx = grid.reciprocal_sampling_inv_A
    phi = np.arctan2(ky, kx)
    # The pixel width along the radial direction, for pixels that need not be square.
    dk_radial = np.hypot(np.cos(phi) * dkx, np.sin(phi) * dky)
    alpha = wavelength_A * np.hypot(ky, kx)
    return np.clip((semiangle_mrad * 1e-3 - alpha) / (wavelength_A * dk_radial) + 0.5, 0.0, 1.0)


class Probe(StrictModel):
    """A probe description: beam energy [eV], convergence semi-angle [mrad], aberrations.

    The same model is the ``[beam]`` section of configs and the ``beam`` of a store's
    acquisition metadata, so a reader can build the probe a store was recorded with.
    """

    energy_eV: PositiveFloat = Field(description="beam energy [eV]")
    semiangle_mrad: PositiveFloat = Field(
        lt=1000 * math.pi / 2, description="convergence semi-angle [mrad], below 90°"
    )
    aberrations: Aberrations = Field(default_factory=Aberrations)

    @property
    def wavelength_A(self) -> float:
        """Relativistic electron wavelength [Å]."""
        return wavelength_A(self.energy_eV)

    @property
    def aperture_radius_inv_A(self) -> float:
        """Radius of the bright-field disk in reciprocal space, α/λ [1/Å]."""
        return self.semiangle_mrad * 1e-3 / self.wavelength_A

    def fourier(self, grid: Grid) -> NDArray[np.complex128]:
        """ψ(k) on ``grid``'s frequencies, FFT order, with Σ|ψ(k)|² = 1."""
        ky, kx = grid.frequencies()
        lam = self.wavelength_A
        psi = soft_aperture(grid, lam, self.semiangle_mrad) * np.exp(
            -1j * aberration_phase(self.aberrations, ky, kx, lam)
        )
        # A(0) > 1/2 for any positive semi-angle, so the norm is never zero.
        return psi / np.sqrt(np.sum(np.abs(psi) ** 2))

    def real_space(self, grid: Grid) -> NDArray[np.complex128]:
        """ψ(r) centred on pixel (ny//2, nx//2), Σ|ψ(r)|² = 1."""
        return np.fft.fftshift(np.fft.ifft2(self.fourier(grid), norm="ortho"))
