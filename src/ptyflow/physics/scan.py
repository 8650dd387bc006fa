"""Scan positions: a raster of probe positions, rotated about its centre.

Before rotation, scan index (iy, ix) sits at ((iy − (ny−1)/2)·step_y, (ix − (nx−1)/2)·step_x)
from the scan centre. ``rotation_deg`` θ then turns the raster counter-clockwise in the
(x right, y up-as-index-increases) sense: the fast-scan (ix) direction is
(y, x) = (sin θ, cos θ) and the slow-scan (iy) direction is (cos θ, −sin θ). Positions come in
raster order: flat index = iy·nx + ix.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from ptyflow.errors import PhysicsError

__all__ = ["scan_directions", "scan_positions_A"]


def scan_directions(rotation_deg: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Unit vectors (y, x) of the slow (iy) and fast (ix) scan directions."""
    t = math.radians(rotation_deg)
    return np.array([math.cos(t), -math.sin(t)]), np.array([math.sin(t), math.cos(t)])


def scan_positions_A(
    shape: tuple[int, int],
    step_A: tuple[float, float],
    rotation_deg: float = 0.0,
    center_A: tuple[float, float] = (0.0, 0.0),
) -> NDArray[np.float64]:
    """Probe positions (ny·nx, 2) as (y, x) [Å] in raster order."""
    if len(shape) != 2 or min(shape) < 1:
        raise PhysicsError(f"scan shape must be two positive integers (got {shape!r})")
    if len(step_A) != 2 or not min(step_A) > 0.0:
        raise PhysicsError(f"scan step_A must be two positive steps in Å (got {step_A!r})")
    slow, fast = scan_directions(rotation_deg)
    iy, ix = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij")
    u = (iy.ravel() - (shape[0] - 1) / 2) * step_A[0]
    v = (ix.ravel() - (shape[1] - 1) / 2) * step_A[1]
    return np.asarray(center_A, dtype=np.float64) + u[:, None] * slow + v[:, None] * fast
