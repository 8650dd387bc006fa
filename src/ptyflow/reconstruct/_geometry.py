"""Where things are: the probe window, the object grid, the positions and the scan rotation.

Positions live in the **scan frame** of ``docs/result-store.md``: the frame of
``physics.scan_positions_A(shape, step_A, rotation_deg, center_A=(0, 0))``. The probe window
is the raw detector's reciprocal: N pixels of 1/(N·dk) Å, so binned data keep the finer
real-space sampling of the detector they were binned from.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ptyflow.config.reconstruct import ScanRotationConfig
from ptyflow.dataset import Dataset
from ptyflow.errors import DatasetError
from ptyflow.physics import center_pixel, scan_positions_A

__all__ = ["ObjectGrid", "estimate_rotation_deg", "object_grid", "resolve_rotation_deg"]

log = logging.getLogger("ptyflow.reconstruct")


@dataclass(frozen=True)
class ObjectGrid:
    """The probe window (N×N) and the object grid, both at ``pixel_size_A``.

    ``origin_A`` is the scan-frame (y, x) of the centre of object pixel (0, 0).
    """

    window_px: tuple[int, int]
    pixel_size_A: tuple[float, float]
    shape: tuple[int, int]
    origin_A: tuple[float, float]

    def pixel_coordinates(self, positions_A: NDArray[np.float64]) -> NDArray[np.float64]:
        """Positions (n, 2) [Å] as fractional object pixels."""
        return (positions_A - np.asarray(self.origin_A)) / np.asarray(self.pixel_size_A)

    def split(
        self, positions_A: NDArray[np.float64]
    ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Top-left window pixel (n, 2) and the probe centre inside the window [px]."""
        rel = self.pixel_coordinates(positions_A)
        centre = np.rint(rel).astype(np.int64)
        half = np.asarray(center_pixel(self.window_px))
        return centre - half, half + rel - centre


def object_grid(
    raw_detector_shape: tuple[int, int],
    raw_pixel_size_inv_A: float,
    positions_A: NDArray[np.float64],
    padding_px: int,
    margin_A: float = 0.0,
) -> ObjectGrid:
    """The smallest object grid that holds every probe window (with ``margin_A`` of position
    refinement room and ``padding_px`` on each side)."""
    ny, nx = raw_detector_shape
    px = (1.0 / (ny * raw_pixel_size_inv_A), 1.0 / (nx * raw_pixel_size_inv_A))
    lo = positions_A.min(axis=0) - margin_A
    hi = positions_A.max(axis=0) + margin_A
    pad = np.array(center_pixel((ny, nx))) + padding_px + 1
    origin = lo - pad * np.asarray(px)
    shape = np.ceil((hi - origin) / np.asarray(px)).astype(int) + np.array([ny, nx]) // 2 + pad
    return ObjectGrid((ny, nx), px, (int(shape[0]), int(shape[1])), (origin[0], origin[1]))


def _curl(com_y: NDArray[np.float64], com_x: NDArray[np.float64], theta: float) -> float:
    """Mean squared curl, over the scan-index grid, of the CoM field projected on the scan
    directions of rotation θ [rad] (a gradient field has none)."""
    c, s = math.cos(theta), math.sin(theta)
    slow = com_y * c - com_x * s  # along (cos θ, −sin θ)
    fast = com_y * s + com_x * c  # along (sin θ, cos θ)
    curl = np.gradient(fast, axis=0) - np.gradient(slow, axis=1)
    return float(np.nanmean(curl**2))


def estimate_rotation_deg(
    com_y: NDArray[np.floating], com_x: NDArray[np.floating]
) -> tuple[float, bool]:
    """The scan rotation [deg] that makes the centre-of-mass field curl-free, and whether the
    detector axes look transposed (the swapped field is markedly more curl-free).

    The curl cannot tell θ from θ + 180°; the estimate lies in (−90°, 90°].
    """
    cy, cx = np.asarray(com_y, np.float64), np.asarray(com_x, np.float64)
    cy, cx = cy - np.nanmean(cy), cx - np.nanmean(cx)
    grid = np.deg2rad(np.arange(-90.0, 90.0, 0.5))

    def best(a: NDArray[np.float64], b: NDArray[np.float64]) -> tuple[float, float]:
        curls = [_curl(a, b, t) for t in grid]
        i = int(np.argmin(curls))
        fine = np.linspace(grid[i] - np.deg2rad(0.5), grid[i] + np.deg2rad(0.5), 41)
        f = [_curl(a, b, t) for t in fine]
        j = int(np.argmin(f))
        return float(np.rad2deg(fine[j])), f[j]

    theta, curl = best(cy, cx)
    _, curl_t = best(cx, cy)
    return theta, curl_t < 0.5 * curl


def resolve_rotation_deg(ds: Dataset, cfg: ScanRotationConfig) -> float:
    """The scan rotation to use, from the metadata, the config or the CoM estimate."""
    meta = ds.metadata.acquisition.scan.rotation_deg
    if cfg.source == "metadata":
        return meta
    if cfg.source == "value":
        return cfg.rotation_deg
    images = ds.live_images
    if len(ds.nav_shape) != 2 or np.isnan(images["com_y"]).all():
        raise DatasetError(
            f"{ds.path}: no centre-of-mass live images to estimate the scan rotation from; "
            "use scan_rotation.source = 'metadata' or 'value'"
        )
    theta, transposed = estimate_rotation_deg(images["com_y"], images["com_x"])
    # The curl leaves θ ± 180° open: take the branch nearest the metadata.
    theta = theta + 180.0 * round((meta - theta) / 180.0)
    if transposed:
        log.warning("the centre-of-mass field looks transposed (detector axes swapped?)")
    if abs(theta - meta) > cfg.warn_above_deg:
        log.warning(
            "scan rotation: metadata says %.2f°, the centre-of-mass estimate %.2f°; using "
            "the estimate",
            meta,
            theta,
        )
    log.info("scan rotation estimated from the centre of mass: %.2f°", theta)
    return theta


def nominal_positions_A(ds: Dataset, rotation_deg: float) -> NDArray[np.float64]:
    """The raster of the store's scan metadata at ``rotation_deg``, scan frame (n, 2) [Å]."""
    scan = ds.metadata.acquisition.scan
    return scan_positions_A(scan.shape, scan.step_A, rotation_deg, (0.0, 0.0))
