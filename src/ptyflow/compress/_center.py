"""Measuring where k = 0 lies: the centre of the bright-field disk, to a fraction of a pixel."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ptyflow.errors import DatasetError

__all__ = ["measure_center"]


def measure_center(mean_frame: NDArray[np.floating]) -> tuple[float, float]:
    """``(cy, cx)`` [pixels] of the bright-field disk in a mean (or summed) frame.

    The disk is where the intensity exceeds half the frame's maximum; pixels on its edge
    count with a weight that ramps linearly from a quarter to three quarters of the
    maximum, so the centroid moves smoothly with the disk and resolves sub-pixel shifts.
    """
    frame = np.asarray(mean_frame, dtype=np.float64)
    peak = float(frame.max()) if frame.size else 0.0
    if not np.isfinite(peak) or peak <= 0:
        raise DatasetError("cannot measure the centre: the mean frame holds no counts")
    weight = np.clip((frame - 0.25 * peak) / (0.5 * peak), 0.0, 1.0)
    ys, xs = np.indices(frame.shape)
    total = weight.sum()
    return float((weight * ys).sum() / total), float((weight * xs).sum() / total)
