"""Built-in crystals, supercells and defects."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from ptyflow.errors import PhysicsError
from ptyflow.physics import CRYSTALS, known_elements, remove_atoms, substitute_atoms, supercell


def nearest_projected_distance(name: str, element: str) -> float:
    atoms = supercell(CRYSTALS[name], (3, 3, 1))
    yx = atoms.positions_A[atoms.elements == element, :2]
    d = np.linalg.norm(yx[:, None] - yx[None], axis=-1)
    return float(d[d > 1e-6].min())


def test_crystal_geometry_textbook_distances() -> None:
    assert nearest_projected_distance("Si_110", "Si") == pytest.approx(
        5.431 / 4, rel=1e-9
    )  # dumbbell
    assert nearest_projected_distance("graphene", "C") == pytest.approx(2.46 / np.sqrt(3), rel=1e-9)


def test_all_crystal_elements_have_parameters() -> None:
    for crystal in CRYSTALS.values():
        for site in crystal.sites:
            assert site.element in known_elements()


@pytest.mark.shared_data
def test_srtio3_sites_match_reference(srtio3_meta: dict[str, Any]) -> None:
    spec = srtio3_meta["specimen"]
    crystal = CRYSTALS["SrTiO3_001"]
    a = spec["lattice_constant_A"]
    assert crystal.cell_A == (a, a, a)
    columns = {(round(s.frac_yxz[0] * a, 4), round(s.frac_yxz[1] * a, 4)) for s in crystal.sites}
    offsets = spec["site_offsets_yx_A"]
    expected = {tuple(offsets["Sr"]), tuple(offsets["TiO"]), *(tuple(o) for o in offsets["O"])}
    assert columns == expected
    atoms = supercell(crystal, tuple(spec["supercell_cells_xyz"]))
    assert atoms.cell_A[2] == pytest.approx(spec["thickness_A"])


def test_supercell_counts_and_cells() -> None:
    atoms = supercell(CRYSTALS["SrTiO3_001"], (2, 3, 4))
    assert len(atoms.elements) == 5 * 24
    assert atoms.cell_A == pytest.approx((7.81, 11.715, 15.62))
    assert (np.unique(atoms.elements, return_counts=True)[1] == [72, 24, 24]).all()  # O, Sr, Ti


def test_substitution_and_vacancy_address_one_column() -> None:
    atoms = supercell(CRYSTALS["SrTiO3_001"], (10, 10, 6))
    ba = substitute_atoms(atoms, "Sr", (6, 4), "Ba", layers=(0, 1, 2))
    chosen = ba.elements == "Ba"
    assert chosen.sum() == 3
    np.testing.assert_allclose(ba.positions_A[chosen, :2], [[23.43, 15.62]] * 3)
    vac = remove_atoms(atoms, "O2", (4, 5))
    assert len(atoms.elements) - len(vac.elements) == 6
    gone = {tuple(p) for p in np.round(atoms.positions_A[:, :2], 4)} - {
        tuple(p) for p in np.round(vac.positions_A[:, :2], 4)
    }
    assert gone == {(15.62, 21.4775)}


def test_defect_errors_name_the_site() -> None:
    atoms = supercell(CRYSTALS["SrTiO3_001"], (2, 2, 1))
    with pytest.raises(PhysicsError, match=r"site 'Sr' in unit cell \(5, 5\)"):
        remove_atoms(atoms, "Sr", (5, 5))
    with pytest.raises(PhysicsError, match="no atom of site 'Xx'"):
        substitute_atoms(atoms, "Xx", (0, 0), "Ba")
