"""Scan positions: raster order, centring, and the sign of the rotation."""

from __future__ import annotations

import numpy as np
import pytest

from ptyflow.errors import PhysicsError
from ptyflow.physics import scan_directions, scan_positions_A


def test_unrotated_raster_order_and_centre() -> None:
    pos = scan_positions_A((3, 4), (0.5, 0.25), 0.0, (10.0, 20.0))
    assert pos.shape == (12, 2)
    np.testing.assert_allclose(pos.mean(axis=0), (10.0, 20.0))
    np.testing.assert_allclose(pos[1] - pos[0], (0.0, 0.25))  # fast axis: x
    np.testing.assert_allclose(pos[4] - pos[0], (0.5, 0.0))  # slow axis: y
    np.testing.assert_allclose(pos[0], (10.0 - 0.5, 20.0 - 1.5 * 0.25))


def test_rotation_90_makes_fast_axis_point_along_plus_y() -> None:
    pos = scan_positions_A((3, 3), (1.0, 1.0), 90.0)
    np.testing.assert_allclose(pos[1] - pos[0], (1.0, 0.0), atol=1e-12)  # ix → +y
    np.testing.assert_allclose(pos[3] - pos[0], (0.0, -1.0), atol=1e-12)  # iy → −x


@pytest.mark.parametrize("theta", [0.0, 17.0, 90.0, -130.0])
def test_directions_are_counter_clockwise_and_orthonormal(theta: float) -> None:
    slow, fast = scan_directions(theta)
    t = np.deg2rad(theta)
    np.testing.assert_allclose(fast, (np.sin(t), np.cos(t)), atol=1e-12)
    assert slow @ fast == pytest.approx(0.0, abs=1e-12)
    # slow = fast turned by −90° (y up): a right-handed raster, as at θ = 0.
    np.testing.assert_allclose(slow, (fast[1], -fast[0]), atol=1e-12)


def test_rotation_preserves_distances() -> None:
    a = scan_positions_A((5, 6), (0.3, 0.4), 0.0)
    b = scan_positions_A((5, 6), (0.3, 0.4), 33.0)
    da = np.linalg.norm(a[:, None] - a[None], axis=-1)
    db = np.linalg.norm(b[:, None] - b[None], axis=-1)
    np.testing.assert_allclose(da, db, atol=1e-12)


@pytest.mark.shared_data
def test_reference_positions(srtio3_dir) -> None:  # type: ignore[no-untyped-def]
    ref = np.load(srtio3_dir / "scan_positions_ang.npy")
    pos = scan_positions_A((32, 32), (0.4, 0.4), 0.0, (19.325, 19.325))
    np.testing.assert_allclose(pos, ref, atol=1e-5)


@pytest.mark.parametrize(("shape", "step"), [((0, 3), (1.0, 1.0)), ((3, 3), (0.0, 1.0))])
def test_bad_scan_is_a_physics_error(shape: tuple[int, int], step: tuple[float, float]) -> None:
    with pytest.raises(PhysicsError, match="scan"):
        scan_positions_A(shape, step)
