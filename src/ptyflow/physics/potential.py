"""Projected atomic potentials from Kirkland's electron scattering factors.

f_e(q) = Σ_i a_i/(q² + b_i) + Σ_i c_i exp(−d_i q²) [Å], q = |k| [1/Å]
(Kirkland, *Advanced Computing in Electron Microscopy*, 2nd ed., Appendix C; the table is
``physics/data/kirkland.json``). The 3D Fourier transform of an atom's potential is 2π·a0·e·f_e,
so the projected potential of the atoms in a periodic cell of area A is

    v(r) = Σ_G c(G) exp(2πi G·r),  c(G) = (2π a0 e / A) Σ_atoms f_e(|G|) exp(−2πi G·r_atom)

in V·Å. Working in Fourier space keeps the slice periodic and band-limited, with no r = 0
singularity to regularise.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
from numpy.typing import NDArray

from ptyflow.errors import PhysicsError
from ptyflow.physics.constants import BOHR_RADIUS_A, COULOMB_EV_A
from ptyflow.physics.crystals import Atoms
from ptyflow.physics.periodic import PeriodicField

__all__ = [
    "KirklandParameters",
    "kirkland_parameters",
    "known_elements",
    "projected_potential",
    "scattering_factor_A",
    "slice_thicknesses_A",
    "sliced_projected_potential",
]


@dataclass(frozen=True)
class KirklandParameters:
    """One element's fit: Lorentzians a [1/Å], b [1/Å²] and Gaussians c [Å], d [Å²], three each."""

    Z: int
    a: tuple[float, float, float]
    b: tuple[float, float, float]
    c: tuple[float, float, float]
    d: tuple[float, float, float]


@cache
def _table() -> dict[str, KirklandParameters]:
    text = resources.files("ptyflow.physics").joinpath("data/kirkland.json").read_text("utf-8")
    return {
        symbol: KirklandParameters(
            Z=e["Z"], a=tuple(e["a"]), b=tuple(e["b"]), c=tuple(e["c"]), d=tuple(e["d"])
        )
        for symbol, e in json.loads(text)["elements"].items()
    }


def known_elements() -> tuple[str, ...]:
    """The element symbols the bundled table covers, by atomic number."""
    return tuple(sorted(_table(), key=lambda s: _table()[s].Z))


def kirkland_parameters(element: str) -> KirklandParameters:
    """Kirkland's parameters for ``element`` (a symbol such as ``"Sr"``)."""
    try:
        return _table()[element]
    except KeyError:
        raise PhysicsError(
            f"unknown element {element!r}: expected one of {', '.join(known_elements())}"
        ) from None


def scattering_factor_A(element: str, q_inv_A: NDArray[np.floating]) -> NDArray[np.float64]:
    """Electron scattering factor f_e(q) [Å] at |k| = ``q_inv_A`` [1/Å]."""
    p = kirkland_parameters(element)
    q2 = np.asarray(q_inv_A, dtype=np.float64) ** 2
    f = np.zeros_like(q2)
    for a, b, c, d in zip(p.a, p.b, p.c, p.d, strict=True):
        f += a / (q2 + b) + c * np.exp(-d * q2)
    return f


def projected_potential(
    positions_yx_A: NDArray[np.floating],
    elements: NDArray[np.str_],
    cell_A: tuple[float, float],
    cutoff_inv_A: float,
) -> PeriodicField:
    """The projected potential v [V·Å] of atoms in a periodic cell, band-limited to |G| ≤ cutoff.

    ``positions_yx_A`` is (n, 2) (y, x) [Å]; ``elements`` (n,) symbols. Each element's
    structure factor Σ exp(−2πi G·r) is one complex matrix product of separable phase
    factors, E_y[atom, gy]ᵀ @ E_x[atom, gx].
    """
    empty = PeriodicField.zeros(cell_A, cutoff_inv_A)
    gy, gx = empty.frequencies()
    g = np.sqrt(gy**2 + gx**2)
    positions = np.asarray(positions_yx_A, dtype=np.float64).reshape(-1, 2)
    elements = np.asarray(elements)
    coeffs = np.zeros_like(empty.coefficients)
    for element in np.unique(elements):
        y, x = positions[elements == element].T
        e_y = np.exp(-2j * np.pi * y[:, None] * gy[:, 0][None, :])
        e_x = np.exp(-2j * np.pi * x[:, None] * gx[0, :][None, :])
        coeffs += scattering_factor_A(str(element), g) * (e_y.T @ e_x)
    prefactor = 2.0 * math.pi * BOHR_RADIUS_A * COULOMB_EV_A / (cell_A[0] * cell_A[1])
    coeffs *= prefactor * empty.band_mask(cutoff_inv_A)
    return PeriodicField(cell_A, empty.orders_y, empty.orders_x, coeffs)


def slice_thicknesses_A(thickness_A: float, slice_thickness_A: float) -> NDArray[np.float64]:
    """Cut ``thickness_A`` into slices of ``slice_thickness_A`` [Å]; the last takes the rest."""
    if not slice_thickness_A > 0.0:
        raise PhysicsError(f"slice_thickness_A must be positive (got {slice_thickness_A!r})")
    n = max(1, math.ceil(thickness_A / slice_thickness_A - 1e-6))
    dz = np.full(n, slice_thickness_A)
    dz[-1] = thickness_A - (n - 1) * slice_thickness_A
    return dz


def sliced_projected_potential(
    atoms: Atoms, slice_thickness_A: float, cutoff_inv_A: float
) -> tuple[PeriodicField, NDArray[np.float64]]:
    """Projected potential [V·Å] of each slice, stacked (n_slices, My, Mx), and the thicknesses.

    Slice s holds the atoms with s·dz ≤ z < (s+1)·dz, counted from the top of the cell; an
    atom within 1e-6 slice thicknesses below a boundary counts as on it, so atomic planes that
    sit on a boundary by construction do not scatter between slices through rounding.
    """
    dz = slice_thicknesses_A(atoms.cell_A[2], slice_thickness_A)
    index = np.floor(atoms.positions_A[:, 2] / slice_thickness_A + 1e-6).astype(np.int64)
    index = np.clip(index, 0, dz.size - 1)
    cell_yx = (atoms.cell_A[0], atoms.cell_A[1])
    slices = [
        projected_potential(
            atoms.positions_A[index == s, :2], atoms.elements[index == s], cell_yx, cutoff_inv_A
        ).coefficients
        for s in range(dz.size)
    ]
    first = PeriodicField.zeros(cell_yx, cutoff_inv_A)
    return PeriodicField(cell_yx, first.orders_y, first.orders_x, np.stack(slices)), dz
