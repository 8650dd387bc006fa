"""Live images for a quick look: bright field, annular dark field, centre of mass.

Each image is a linear detector applied to every frame, so one matrix product per shard
computes all of them: five weight maps on the frame grid (BF disk, ADF annulus, total
intensity, ky, kx); the centre of mass is the ky- (kx-) weighted sum over the total.

- BF: pixels with |k| ≤ α/λ (α the convergence semi-angle).
- ADF: pixels with |k| > ``ADF_INNER_FACTOR`` · α/λ, out to the detector edge.
- COM: Σ k·I / Σ I [1/Å] in detector axes (not rotated into scan axes); NaN if Σ I = 0.

Virtual-detector stores hold mask signals, not frames: a live image is derived from them
when its weight map is a linear combination of the stored masks (least squares, checked to
``_SPAN_RTOL``), and is NaN everywhere otherwise. Missing frames are NaN in every image.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ptyflow.dataset._layout import LIVE_IMAGES
from ptyflow.dataset._metadata import DatasetMetadata

__all__ = ["ADF_INNER_FACTOR", "LiveImages", "live_detectors"]

ADF_INNER_FACTOR = 1.25  # ADF inner radius over BF radius: keeps the BF edge out of the ADF
_WEIGHTS = ("bf", "adf", "sum", "ky", "kx")
_SPAN_RTOL = 1e-4  # masks are float32; a detector in their span fits to ~1e-7


def live_detectors(metadata: DatasetMetadata) -> dict[str, NDArray[np.float32]]:
    """The weight maps behind the live images, on ``metadata.frame_grid``.

    ``bf`` and ``adf`` are 0/1 masks, ``sum`` is all ones, ``ky`` and ``kx`` hold each
    pixel's spatial frequency [1/Å]. A virtual-detector acquisition that includes these as
    masks gets exact live images.
    """
    grid = metadata.frame_grid
    k_bf = metadata.acquisition.beam.aperture_radius_inv_A
    ky = (np.arange(grid.shape[0]) - grid.center_px[0]) * grid.pixel_size_inv_A
    kx = (np.arange(grid.shape[1]) - grid.center_px[1]) * grid.pixel_size_inv_A
    ky2, kx2 = np.meshgrid(ky, kx, indexing="ij")
    k = np.hypot(ky2, kx2)
    maps = (k <= k_bf, k > ADF_INNER_FACTOR * k_bf, np.ones_like(k), ky2, kx2)
    return {name: m.astype(np.float32) for name, m in zip(_WEIGHTS, maps, strict=True)}


def _projection_from_masks(
    weights: NDArray[np.float32], masks: NDArray[np.floating]
) -> NDArray[np.float64]:
    """``(n_masks, 5)`` coefficients turning mask signals into live-detector signals.

    A column is NaN when its weight map is not in the span of the masks.
    """
    basis = masks.reshape(len(masks), -1).T.astype(np.float64)  # (npix, n_masks)
    target = weights.T.astype(np.float64)  # (npix, 5)
    coef, *_ = np.linalg.lstsq(basis, target, rcond=None)
    misfit = np.linalg.norm(basis @ coef - target, axis=0)
    scale = np.maximum(np.linalg.norm(target, axis=0), np.finfo(np.float64).tiny)
    coef[:, misfit > _SPAN_RTOL * scale] = np.nan
    return np.asarray(coef, dtype=np.float64)


class LiveImages:
    """The four live images over the navigation shape, filled shard by shard."""

    def __init__(
        self, metadata: DatasetMetadata, masks: NDArray[np.floating] | None = None
    ) -> None:
        weights = np.stack(list(live_detectors(metadata).values())).reshape(len(_WEIGHTS), -1)
        if metadata.compression.kind == "virtual":
            if masks is None:
                raise ValueError("virtual-detector data need their masks for live images")
            self._projection = _projection_from_masks(weights, masks).astype(np.float32)
        else:
            self._projection = np.ascontiguousarray(weights.T)  # (npix, 5)
        self.images = {
            name: np.full(metadata.nav_shape, np.nan, np.float32) for name in LIVE_IMAGES
        }

    def update(
        self,
        nav: tuple[slice, ...],
        block: NDArray[Any],
        received: NDArray[np.bool_],
        sums: NDArray[np.floating] | None = None,
    ) -> None:
        """Fill the images at navigation slices ``nav`` from ``block`` where ``received``.

        ``block`` has shape ``(*nav_block, *frame_shape)``; positions not received keep NaN.
        ``sums`` ``(*nav_block, 5)``: the five weight sums already computed by the
        compression stage (``ptyflow.compress``); rows of NaN are computed here instead.
        """
        nav_block = received.shape
        if sums is None or np.isnan(sums).any():
            flat = block.reshape(int(np.prod(nav_block)), -1).astype(np.float32, copy=False)
            signals = (flat @ self._projection).reshape(*nav_block, len(_WEIGHTS))
            if sums is not None:
                signals = np.where(np.isnan(sums), signals, sums)
        else:
            signals = sums
        self._set(nav, signals, received)

    def update_from_sums(self, received: NDArray[np.bool_], sums: NDArray[np.floating]) -> None:
        """Fill the images where ``received`` from the five weight sums ``(*nav, 5)`` of
        every position, computed by the compression stage (one pass over the scan)."""
        self._set((slice(None),) * received.ndim, sums, received)

    def _set(
        self, nav: tuple[slice, ...], signals: NDArray[np.floating], received: NDArray[np.bool_]
    ) -> None:
        bf, adf, total, sy, sx = np.moveaxis(signals, -1, 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            com_y = np.where(total != 0, sy / total, np.nan)
            com_x = np.where(total != 0, sx / total, np.nan)
        for name, values in (("bf", bf), ("adf", adf), ("com_y", com_y), ("com_x", com_x)):
            self.images[name][nav][received] = values[received]
