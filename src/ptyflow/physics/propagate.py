"""Fresnel propagation between slices and the transmission function of a slice.

Propagating by dz multiplies the wave in Fourier space by exp(−iπλ·dz·k²), which is the same
phase as adding dz to C10 (see :mod:`ptyflow.physics.aberrations`): a probe with C10 = −100 Å
comes to focus 100 Å downstream. A slice of projected potential v [V·Å] transmits
exp(+iσv), a positive phase at atom columns.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ptyflow.physics.grid import Grid

__all__ = ["fresnel_propagator", "transmission"]


def fresnel_propagator(
    grid: Grid, wavelength_A: float, dz_A: float, *, bandlimit: bool = True
) -> NDArray[np.complex128]:
    """exp(−iπλ·dz·k²) on ``grid``'s frequencies, FFT order.

    With ``bandlimit`` the propagator is zero outside the anti-aliasing band limit, so a
    multislice step also removes what the transmission product aliased there.
    """
    p = np.exp(-1j * np.pi * wavelength_A * dz_A * grid.k2())
    return p * grid.antialias_mask() if bandlimit else p


def transmission(phase_rad: NDArray[np.floating]) -> NDArray[np.complexfloating]:
    """The transmission function exp(+iφ) of a slice whose phase shift is φ = σ·v [rad]."""
    return np.exp(1j * phase_rad)
