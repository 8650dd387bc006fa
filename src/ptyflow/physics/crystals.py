"""Built-in crystals, supercells and point defects.

Every crystal is given in an orthorhombic cell aligned with the beam: (y, x) across the beam,
z along it, so the zone axis is the cell's z axis. Sites carry labels so defects can name
them. Positions are (y, x, z) [Å].
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ptyflow.errors import PhysicsError

__all__ = [
    "CRYSTALS",
    "Atoms",
    "Crystal",
    "Site",
    "remove_atoms",
    "substitute_atoms",
    "supercell",
]


@dataclass(frozen=True)
class Site:
    """An atom of the unit cell: a label unique in the cell, its element, (y, x, z) fractions."""

    label: str
    element: str
    frac_yxz: tuple[float, float, float]


@dataclass(frozen=True)
class Crystal:
    """An orthorhombic unit cell (y, x, z) [Å] with labelled sites; z is the beam direction."""

    name: str
    description: str
    cell_A: tuple[float, float, float]
    sites: tuple[Site, ...]
    #: Slice thickness that puts each atomic plane along z in its own slice [Å].
    plane_spacing_A: float


_STO_A = 3.905  # SrTiO3 cubic lattice constant [Å], as in the shared reference dataset
_SI_A = 5.431  # Si diamond-cubic lattice constant [Å]
_GRAPHENE_A = 2.46  # graphene lattice constant [Å] (C–C bond 1.42 Å)
_GRAPHITE_C = 3.35  # interlayer spacing of graphite [Å]: the z period of stacked layers

CRYSTALS: dict[str, Crystal] = {
    c.name: c
    for c in (
        Crystal(
            name="SrTiO3_001",
            description="SrTiO3 perovskite, a = 3.905 Å, [001] zone axis",
            cell_A=(_STO_A, _STO_A, _STO_A),
            sites=(
                Site("Sr", "Sr", (0.0, 0.0, 0.0)),
                Site("Ti", "Ti", (0.5, 0.5, 0.5)),
                Site("O1", "O", (0.5, 0.5, 0.0)),  # shares the Ti–O column
                Site("O2", "O", (0.0, 0.5, 0.5)),  # pure O column at (0, a/2)
                Site("O3", "O", (0.5, 0.0, 0.5)),  # pure O column at (a/2, 0)
            ),
            plane_spacing_A=_STO_A / 2,
        ),
        Crystal(
            # Orthorhombic cell y = [001] (a), x = [1-10] (a/√2), z = [110] (a/√2); the
            # 4 atoms form the familiar dumbbells 1.36 Å apart along y.
            name="Si_110",
            description="Si diamond cubic, a = 5.431 Å, [110] zone axis",
            cell_A=(_SI_A, _SI_A / math.sqrt(2), _SI_A / math.sqrt(2)),
            sites=(
                Site("Si1", "Si", (0.0, 0.0, 0.0)),
                Site("Si2", "Si", (0.25, 0.0, 0.5)),
                Site("Si3", "Si", (0.5, 0.5, 0.5)),
                Site("Si4", "Si", (0.75, 0.5, 0.0)),
            ),
            plane_spacing_A=_SI_A / math.sqrt(2) / 2,
        ),
        Crystal(
            # Rectangular cell y = a√3 (armchair), x = a (zigzag); repeats along z stack
            # layers directly on top of each other (AA), not as in graphite.
            name="graphene",
            description="graphene, a = 2.46 Å, viewed along its normal",
            cell_A=(_GRAPHENE_A * math.sqrt(3), _GRAPHENE_A, _GRAPHITE_C),
            sites=(
                Site("C1", "C", (0.0, 0.0, 0.0)),
                Site("C2", "C", (1.0 / 6.0, 0.5, 0.0)),
                Site("C3", "C", (0.5, 0.5, 0.0)),
                Site("C4", "C", (2.0 / 3.0, 0.0, 0.0)),
            ),
            plane_spacing_A=_GRAPHITE_C,
        ),
    )
}


@dataclass(frozen=True)
class Atoms:
    """Atoms in a periodic cell (Ly, Lx, Lz) [Å].

    ``positions_A`` (n, 3) is (y, x, z); ``labels`` names each atom's site and ``cells``
    (n, 3) its unit cell (iy, ix, iz), so defects can address columns and layers.
    """

    cell_A: tuple[float, float, float]
    elements: NDArray[np.str_]
    positions_A: NDArray[np.float64]
    labels: NDArray[np.str_]
    cells: NDArray[np.int64]


def supercell(crystal: Crystal, repeats: tuple[int, int, int]) -> Atoms:
    """Tile ``crystal`` ``repeats`` = (ny, nx, nz) times along (y, x, z)."""
    if len(repeats) != 3 or min(repeats) < 1:
        raise PhysicsError(f"repeats must be three positive integers (got {repeats!r})")
    cell = np.asarray(crystal.cell_A)
    idx = np.stack(np.meshgrid(*(np.arange(r) for r in repeats), indexing="ij"), -1).reshape(-1, 3)
    frac = np.array([s.frac_yxz for s in crystal.sites])
    positions = ((idx[:, None, :] + frac[None, :, :]) * cell).reshape(-1, 3)
    n_sites = len(crystal.sites)
    return Atoms(
        cell_A=tuple(float(v) for v in cell * np.asarray(repeats)),  # type: ignore[arg-type]
        elements=np.tile(np.array([s.element for s in crystal.sites]), len(idx)),
        positions_A=positions,
        labels=np.tile(np.array([s.label for s in crystal.sites]), len(idx)),
        cells=np.repeat(idx, n_sites, axis=0),
    )


def _select(
    atoms: Atoms, label: str, cell_yx: tuple[int, int], layers: Sequence[int] | None
) -> NDArray[np.bool_]:
    """Atoms of site ``label`` in the column of unit cell ``cell_yx``, optionally some layers."""
    chosen = (atoms.labels == label) & np.all(atoms.cells[:, :2] == np.asarray(cell_yx), axis=1)
    if layers is not None:
        chosen &= np.isin(atoms.cells[:, 2], np.asarray(layers))
    if not chosen.any():
        raise PhysicsError(
            f"no atom of site {label!r} in unit cell {tuple(cell_yx)}"
            + (f" layers {list(layers)}" if layers is not None else "")
            + " of the supercell"
        )
    return chosen


def substitute_atoms(
    atoms: Atoms,
    label: str,
    cell_yx: tuple[int, int],
    element: str,
    layers: Sequence[int] | None = None,
) -> Atoms:
    """Replace the atoms of site ``label`` in column ``cell_yx`` (all layers, or ``layers``)."""
    chosen = _select(atoms, label, cell_yx, layers)
    elements = atoms.elements.astype(np.result_type(atoms.elements, np.array([element])))
    elements[chosen] = element
    return Atoms(atoms.cell_A, elements, atoms.positions_A, atoms.labels, atoms.cells)


def remove_atoms(
    atoms: Atoms, label: str, cell_yx: tuple[int, int], layers: Sequence[int] | None = None
) -> Atoms:
    """Remove the atoms of site ``label`` in column ``cell_yx`` (all of them, or ``layers``)."""
    keep = ~_select(atoms, label, cell_yx, layers)
    return Atoms(
        atoms.cell_A,
        atoms.elements[keep],
        atoms.positions_A[keep],
        atoms.labels[keep],
        atoms.cells[keep],
    )
