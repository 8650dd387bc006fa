"""Physical constants and the beam's relativistic wavelength and interaction constant.

The constants are CODATA values from :mod:`scipy.constants`; everything returned is in the
package's units (Å, eV, V).
"""

from __future__ import annotations

import math

from scipy import constants as _c

from ptyflow.errors import PhysicsError

__all__ = [
    "BOHR_RADIUS_A",
    "COULOMB_EV_A",
    "sigma_rad_per_VA",
    "wavelength_A",
]

#: Bohr radius a0 [Å].
BOHR_RADIUS_A: float = _c.physical_constants["Bohr radius"][0] * 1e10
#: e²/(4πε0) [eV·Å] (Kirkland's "e" in the product a0·e; ≈ 14.3996).
COULOMB_EV_A: float = _c.e / (4.0 * math.pi * _c.epsilon_0) * 1e10

_REST_ENERGY_EV: float = _c.m_e * _c.c**2 / _c.e


def _checked_energy(energy_eV: float) -> float:
    """``energy_eV`` if it is a positive finite beam energy [eV], else :class:`PhysicsError`."""
    if not math.isfinite(energy_eV) or energy_eV <= 0.0:
        raise PhysicsError(f"energy_eV must be a positive beam energy in eV (got {energy_eV!r})")
    return float(energy_eV)


def wavelength_A(energy_eV: float) -> float:
    """Relativistic electron wavelength λ [Å] for a beam energy [eV].

    λ = h c / sqrt(E (2 m0 c² + E)); 0.0196875 Å at 300 keV.
    """
    e_j = _checked_energy(energy_eV) * _c.e
    return _c.h * _c.c / math.sqrt(e_j * (2.0 * _c.m_e * _c.c**2 + e_j)) * 1e10


def sigma_rad_per_VA(energy_eV: float) -> float:
    """Interaction constant σ [rad/(V·Å)]: the phase a projected potential of 1 V·Å imparts.

    σ = 2π m e λ / h² with the relativistic mass m = m0 (1 + E / m0c²); 6.526e-4 at 300 keV.
    """
    energy = _checked_energy(energy_eV)
    mass = _c.m_e * (1.0 + energy / _REST_ENERGY_EV)
    lam_m = wavelength_A(energy) * 1e-10
    return 2.0 * math.pi * mass * _c.e * lam_m / _c.h**2 * 1e-10
