"""Axial aberrations in Krivanek C_nm notation and the aberration phase χ(k).

χ(k) = (2π/λ) Σ_nm C_nm α^(n+1)/(n+1) · cos(m(φ − φ_nm)),  α = λ|k|,  φ = atan2(ky, kx).

So the defocus term is χ = π λ C10 k², and defocus = −C10 (a probe with C10 < 0 focuses
downstream of the entrance surface). The probe in Fourier space is A(k)·exp(−iχ(k)).
Azimuths φ and φ_nm are measured from the +x (kx) axis towards +y (ky).
"""

from __future__ import annotations

import numpy as np
import torch
from numpy.typing import NDArray
from pydantic import Field

from ptyflow._models import FiniteFloat, StrictModel

__all__ = [
    "ABERRATION_ORDERS",
    "Aberrations",
    "aberration_coefficients",
    "aberration_phase",
    "aberration_phase_torch",
]

#: (n, m) of every coefficient :class:`Aberrations` knows. The field names follow from it:
#: ``C{n}{m}_A`` for the magnitude [Å] and, for m > 0, ``phi{n}{m}_deg`` for the azimuth [deg].
ABERRATION_ORDERS: tuple[tuple[int, int], ...] = (
    (1, 0),  # defocus (C10 = −Δf)
    (1, 2),  # two-fold astigmatism
    (2, 1),  # axial coma
    (2, 3),  # three-fold astigmatism
    (3, 0),  # spherical aberration Cs
    (3, 2),  # two-fold astigmatism of third order
    (3, 4),  # four-fold astigmatism
    (5, 0),  # fifth-order spherical aberration C5
)


class Aberrations(StrictModel):
    """Axial aberration coefficients (Krivanek C_nm); magnitudes [Å], azimuths [deg].

    All default to zero, so ``Aberrations(C10_A=-100.0)`` is a probe with 100 Å of
    (under)focus: defocus = −C10.
    """

    C10_A: FiniteFloat = Field(0.0, description="defocus term; defocus = −C10 [Å]")
    C12_A: FiniteFloat = Field(0.0, description="two-fold astigmatism [Å]")
    phi12_deg: FiniteFloat = Field(0.0, description="azimuth of C12 [deg]")
    C21_A: FiniteFloat = Field(0.0, description="axial coma [Å]")
    phi21_deg: FiniteFloat = Field(0.0, description="azimuth of C21 [deg]")
    C23_A: FiniteFloat = Field(0.0, description="three-fold astigmatism [Å]")
    phi23_deg: FiniteFloat = Field(0.0, description="azimuth of C23 [deg]")
    C30_A: FiniteFloat = Field(0.0, description="spherical aberration Cs [Å]")
    C32_A: FiniteFloat = Field(0.0, description="third-order two-fold astigmatism [Å]")
    phi32_deg: FiniteFloat = Field(0.0, description="azimuth of C32 [deg]")
    C34_A: FiniteFloat = Field(0.0, description="four-fold astigmatism [Å]")
    phi34_deg: FiniteFloat = Field(0.0, description="azimuth of C34 [deg]")
    C50_A: FiniteFloat = Field(0.0, description="fifth-order spherical aberration C5 [Å]")

    @property
    def defocus_A(self) -> float:
        """Defocus [Å] = −C10 (positive = underfocus, crossover below the entrance surface)."""
        return -self.C10_A

    def terms(self) -> list[tuple[int, int, float, float]]:
        """The non-zero coefficients as ``(n, m, C_nm [Å], φ_nm [rad])``."""
        out = []
        for n, m in ABERRATION_ORDERS:
            c = float(getattr(self, f"C{n}{m}_A"))
            phi = float(np.deg2rad(getattr(self, f"phi{n}{m}_deg"))) if m else 0.0
            if c != 0.0:
                out.append((n, m, c, phi))
        return out


def aberration_coefficients(
    aberrations: Aberrations,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Magnitudes C_nm [Å] and azimuths φ_nm [rad] of every term, in ``ABERRATION_ORDERS``
    order (zeros included), the parameter vectors of :func:`aberration_phase_torch`."""
    mags = [float(getattr(aberrations, f"C{n}{m}_A")) for n, m in ABERRATION_ORDERS]
    phis = [
        float(np.deg2rad(getattr(aberrations, f"phi{n}{m}_deg"))) if m else 0.0
        for n, m in ABERRATION_ORDERS
    ]
    return np.array(mags), np.array(phis)


def aberration_phase_torch(
    magnitudes_A: torch.Tensor,
    azimuths_rad: torch.Tensor,
    ky: torch.Tensor,
    kx: torch.Tensor,
    wavelength_A: float,
) -> torch.Tensor:
    """χ [rad] at ``(ky, kx)`` [1/Å], differentiable in the coefficients.

    ``magnitudes_A`` and ``azimuths_rad`` hold one entry per ``ABERRATION_ORDERS`` term (see
    :func:`aberration_coefficients`); a reconstruction refines them by autograd.
    """
    alpha = wavelength_A * torch.sqrt(ky**2 + kx**2)
    phi = torch.atan2(ky, kx)
    chi = torch.zeros(torch.broadcast_shapes(ky.shape, kx.shape), dtype=ky.dtype, device=ky.device)
    for i, (n, m) in enumerate(ABERRATION_ORDERS):
        chi = chi + magnitudes_A[i] * alpha ** (n + 1) / (n + 1) * torch.cos(
            m * (phi - azimuths_rad[i])
        )
    return (2.0 * np.pi / wavelength_A) * chi


def aberration_phase(
    aberrations: Aberrations,
    ky: NDArray[np.floating],
    kx: NDArray[np.floating],
    wavelength_A: float,
) -> NDArray[np.float64]:
    """The aberration phase χ [rad] at spatial frequencies ``(ky, kx)`` [1/Å].

    ``ky`` and ``kx`` broadcast against each other (e.g. a column and a row). Evaluated by
    :func:`aberration_phase_torch` in float64, so both share one formula.
    """
    mags, phis = aberration_coefficients(aberrations)
    chi = aberration_phase_torch(
        torch.from_numpy(mags),
        torch.from_numpy(phis),
        torch.as_tensor(np.asarray(ky, dtype=np.float64)),
        torch.as_tensor(np.asarray(kx, dtype=np.float64)),
        wavelength_A,
    )
    return chi.numpy()
