"""Band-limited periodic fields: exact sampling on any grid."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from ptyflow.errors import PhysicsError
from ptyflow.physics import PeriodicField, harmonic_orders

CELL = (7.0, 5.0)


def cosine_field() -> tuple[PeriodicField, Callable[[np.ndarray, np.ndarray], np.ndarray]]:
    def f(y: np.ndarray, x: np.ndarray) -> np.ndarray:
        return (
            0.3
            + np.cos(2 * np.pi * (2 * y / CELL[0] - 3 * x / CELL[1]))
            + 0.5 * np.sin(2 * np.pi * y / CELL[0])
        )

    ny, nx = 28, 20
    y, x = np.meshgrid(np.arange(ny) * CELL[0] / ny, np.arange(nx) * CELL[1] / nx, indexing="ij")
    return PeriodicField.from_samples(f(y, x), CELL, 1.0), f


def test_harmonic_orders_fft_order() -> None:
    assert harmonic_orders(5.0, 0.65).tolist() == [0, 1, 2, 3, -3, -2, -1]


def test_sample_anywhere_matches_the_function() -> None:
    field, f = cosine_field()
    y = np.array([-3.1, 0.0, 0.77, 12.4])
    x = np.array([0.1, 2.9, 11.0])
    np.testing.assert_allclose(field.sample(y, x).real, f(y[:, None], x[None, :]), atol=1e-5)


def test_sample_cell_matches_sample() -> None:
    field, _ = cosine_field()
    cell_grid = field.sample_cell((35, 25))
    y, x = np.arange(35) * CELL[0] / 35, np.arange(25) * CELL[1] / 25
    np.testing.assert_allclose(cell_grid, field.sample(y, x), atol=1e-5)


def test_band_limit_drops_higher_harmonics() -> None:
    x = np.arange(32)[None, :] / 32 * 8.0
    samples = np.repeat(np.cos(2 * np.pi * x / 8.0) + np.cos(2 * np.pi * 10 * x / 8.0), 32, 0)
    field = PeriodicField.from_samples(samples, (8.0, 8.0), 1.0)
    # 0.125 1/Å survives the 1 1/Å band limit, 1.25 1/Å does not.
    expected = np.repeat(np.cos(2 * np.pi * x / 8.0), 32, 0)
    np.testing.assert_allclose(field.sample_cell((32, 32)).real, expected, atol=1e-12)


def test_too_coarse_samples_are_refused() -> None:
    with pytest.raises(PhysicsError, match="resolve"):
        PeriodicField.from_samples(np.zeros((8, 8)), (8.0, 8.0), 1.0)
