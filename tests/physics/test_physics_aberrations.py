"""χ(k) of each C_nm term against a formula written out by hand."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from ptyflow.physics import ABERRATION_ORDERS, Aberrations, aberration_phase

LAM = 0.0196875  # Å
KY = np.array([[0.0], [0.3], [-0.7], [1.1]])
KX = np.array([[0.5, -0.2, 0.0, 0.9]])
ALPHA = LAM * np.hypot(KY, KX)
PHI = np.arctan2(KY, KX)


def chi(**coefficients: float) -> np.ndarray:
    return aberration_phase(Aberrations(**coefficients), KY, KX, LAM)


def test_defocus_is_pi_lambda_c10_k2() -> None:
    expected = np.pi * LAM * (-100.0) * (KY**2 + KX**2)
    np.testing.assert_allclose(chi(C10_A=-100.0), expected, rtol=1e-12)
    assert Aberrations(C10_A=-100.0).defocus_A == 100.0


@pytest.mark.parametrize(
    ("coefficients", "by_hand"),
    [
        (
            {"C12_A": 30.0, "phi12_deg": 20.0},
            2 * np.pi / LAM * 30.0 * ALPHA**2 / 2 * np.cos(2 * (PHI - np.deg2rad(20.0))),
        ),
        (
            {"C21_A": 1e3, "phi21_deg": -45.0},
            2 * np.pi / LAM * 1e3 * ALPHA**3 / 3 * np.cos(PHI + np.deg2rad(45.0)),
        ),
        (
            {"C23_A": 500.0, "phi23_deg": 10.0},
            2 * np.pi / LAM * 500.0 * ALPHA**3 / 3 * np.cos(3 * (PHI - np.deg2rad(10.0))),
        ),
        ({"C30_A": 1e7}, np.pi / 2 * 1e7 * LAM**3 * (KY**2 + KX**2) ** 2),  # Cs: πCsλ³k⁴/2
        (
            {"C32_A": 2e4, "phi32_deg": 5.0},
            2 * np.pi / LAM * 2e4 * ALPHA**4 / 4 * np.cos(2 * (PHI - np.deg2rad(5.0))),
        ),
        (
            {"C34_A": 3e4, "phi34_deg": 15.0},
            2 * np.pi / LAM * 3e4 * ALPHA**4 / 4 * np.cos(4 * (PHI - np.deg2rad(15.0))),
        ),
        ({"C50_A": 5e7}, np.pi / 3 * 5e7 * LAM**5 * (KY**2 + KX**2) ** 3),  # C5: πC5λ⁵k⁶/3
    ],
)
def test_each_term_matches_hand_formula(
    coefficients: dict[str, float], by_hand: np.ndarray
) -> None:
    np.testing.assert_allclose(chi(**coefficients), by_hand, rtol=1e-10, atol=1e-12)


def test_terms_add() -> None:
    both = chi(C10_A=50.0, C30_A=1e6)
    np.testing.assert_allclose(both, chi(C10_A=50.0) + chi(C30_A=1e6), rtol=1e-12)


def test_every_order_has_fields() -> None:
    fields = Aberrations.model_fields
    for n, m in ABERRATION_ORDERS:
        assert f"C{n}{m}_A" in fields
        assert (f"phi{n}{m}_deg" in fields) == (m > 0)


def test_model_is_strict_and_frozen() -> None:
    with pytest.raises(ValidationError, match="defocus"):
        Aberrations(defocus=100.0)  # type: ignore[call-arg]
    a = Aberrations(C10_A=-100.0)
    with pytest.raises(ValidationError):
        a.C10_A = 0.0  # type: ignore[misc]
