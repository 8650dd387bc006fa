"""``score_phase``: register a reconstructed phase on its ground truth and measure it.

The result keeps its own calibration (pixel size, origin in the scan frame): only a
sub-pixel shift is fitted, unless a scale or rotation fit is asked for. Metrics are taken
over the scanned field (the convex hull of the probe positions, shrunk by a margin), where
the data say anything about the object.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import ConvexHull, QhullError

from ptyflow.dataset import GroundTruth
from ptyflow.errors import ScoreError
from ptyflow.score._metrics import FRC, fourier_ring_correlation, gain_offset, pearson_r
from ptyflow.score._register import Registration
from ptyflow.score._sampling import TruthSampler

__all__ = ["Score", "score_phase"]

_MIN_SQUARE_PX = 8  # smaller fields cannot be registered or give an FRC


@dataclass(frozen=True)
class Score:
    """How a result compares with its ground truth over the scanned field."""

    pearson_r: float
    gain: float  # least-squares slope of result on truth (1: right contrast)
    offset_rad: float
    shift_A: tuple[float, float]  # (y, x): result pixel at s shows the truth at s + shift
    scale: float  # fitted pixel-scale factor (1 unless fitted)
    rotation_deg: float  # fitted rotation (0 unless fitted)
    frc: FRC
    n_pixels: int  # result pixels inside the scored field
    warnings: tuple[str, ...] = ()
    #: The truth as registered on the result's grid, NaN outside the scored field.
    registered_truth: NDArray[np.float64] = field(repr=False, default_factory=lambda: np.zeros(0))

    def to_dict(self, curve: bool = True) -> dict[str, Any]:
        """JSON-ready metrics (with the FRC curve unless ``curve`` is False)."""
        out: dict[str, Any] = {
            "pearson_r": self.pearson_r,
            "gain": self.gain,
            "offset_rad": self.offset_rad,
            "shift_A": list(self.shift_A),
            "scale": self.scale,
            "rotation_deg": self.rotation_deg,
            "frc_resolution_A": _finite_or_none(self.frc.resolution_A),
            "frc_resolution_half_bit_A": _finite_or_none(self.frc.resolution_half_bit_A),
            "nyquist_resolution_A": self.frc.nyquist_A,
            "n_pixels": self.n_pixels,
            "warnings": list(self.warnings),
        }
        if curve:
            out["frc_curve"] = {
                "k_inv_A": self.frc.k_inv_A.tolist(),
                "frc": self.frc.frc.tolist(),
                "half_bit": self.frc.half_bit.tolist(),
            }
        return out


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None  # JSON has no inf


def _field_mask(
    positions_A: NDArray[np.float64],
    y: NDArray[np.float64],
    x: NDArray[np.float64],
    margin_A: float,
) -> NDArray[np.bool_]:
    """Pixels inside the convex hull of the positions, at least ``margin_A`` from its edge."""
    try:
        hull = ConvexHull(positions_A)
    except (QhullError, ValueError):
        raise ScoreError(
            f"the {len(positions_A)} probe positions do not span an area: cannot define a "
            "scanned field to score over"
        ) from None
    points = np.stack([y.ravel(), x.ravel()], axis=1)
    # equations: unit outward normal n and offset c with n·p + c ≤ 0 inside
    distance = points @ hull.equations[:, :2].T + hull.equations[:, 2]
    return np.all(distance <= -margin_A, axis=1).reshape(y.shape)


def _inscribed_square(mask: NDArray[np.bool_]) -> tuple[slice, slice]:
    """The largest square of pixels inside ``mask``, centred on its centroid."""
    ci, cj = (round(float(c)) for c in np.argwhere(mask).mean(axis=0))
    h = 0
    while (
        ci - h - 1 >= 0
        and cj - h - 1 >= 0
        and mask[ci - h - 1 : ci + h + 2, cj - h - 1 : cj + h + 2].all()
    ):
        h += 1
    if 2 * h + 1 < _MIN_SQUARE_PX:
        raise ScoreError(
            f"the scored field holds no square of {_MIN_SQUARE_PX}×{_MIN_SQUARE_PX} result "
            "pixels: the result does not cover the scan, or the margin is too large"
        )
    return slice(ci - h, ci + h + 1), slice(cj - h, cj + h + 1)


def score_phase(
    phase: ArrayLike,
    pixel_size_A: float,
    origin_A: tuple[float, float],
    truth: GroundTruth,
    *,
    field_A: ArrayLike | None = None,
    margin_A: float = 1.0,
    max_shift_A: float = 2.0,
    fit_scale: bool = False,
    fit_rotation: bool = False,
    frc_k_min_inv_A: float = 0.2,
) -> Score:
    """Score a phase image [rad] (y, x), or a stack (slice, y, x) that is summed.

    ``origin_A``: scan-frame (y, x) [Å] of the centre of pixel (0, 0), as result stores
    record it. ``field_A`` (N, 2): probe positions (scan frame) whose convex hull, shrunk
    by ``margin_A``, is the scored field; default the truth's nominal scan. The shift is
    searched within ±``max_shift_A`` (less than a lattice vector, so a crystal is not matched
    to an equivalent site); a clearly better match beyond it is reported as a warning: the
    calibration is off.
    """
    image = np.asarray(phase, dtype=np.float64)
    if image.ndim == 3:
        image = image.sum(axis=0)
    if image.ndim != 2:
        raise ScoreError(f"phase must be (y, x) or (slice, y, x), got shape {image.shape}")
    if not np.isfinite(image).all():
        raise ScoreError("phase contains NaN or infinity")
    if not pixel_size_A > 0:
        raise ScoreError(f"pixel_size_A must be > 0, got {pixel_size_A}")
    for name, value, least in (
        ("margin_A", margin_A, 0.0),
        ("max_shift_A", max_shift_A, 0.0),
        ("frc_k_min_inv_A", frc_k_min_inv_A, 0.0),
    ):
        if not (np.isfinite(value) and value >= least):
            raise ScoreError(f"{name} must be a finite number >= {least:g}, got {value}")
    rows, cols = np.indices(image.shape, dtype=np.float64) * pixel_size_A
    y: NDArray[np.float64] = origin_A[0] + rows
    x: NDArray[np.float64] = origin_A[1] + cols
    positions = truth.nominal_positions_A if field_A is None else np.asarray(field_A, float)
    mask = _field_mask(positions, y, x, margin_A)
    if not mask.any():
        raise ScoreError(
            "no result pixel lies inside the scanned field: the result's origin_A or pixel "
            "size does not match the scan"
        )
    sq = _inscribed_square(mask)
    sampler = TruthSampler(truth, pixel_size_A)
    if (outside := sampler.outside(y[mask], x[mask])) > 0:
        raise ScoreError(
            f"{truth.path}: {outside:.0%} of the scanned field lies outside the ground truth"
        )
    registration = Registration(image[sq], y[sq], x[sq], sampler, pixel_size_A)
    far = registration.register(max_shift_A)
    if fit_scale or fit_rotation:
        registration.fit_scale_rotation(fit_scale, fit_rotation)
    transform = registration.transform
    g = sampler.sample(*transform(y[mask], x[mask]))
    r = pearson_r(image[mask], g)
    gain, offset = gain_offset(image[mask], g)
    g_square = registration.truth()
    frc = fourier_ring_correlation(
        image[sq], g_square, pixel_size_A * transform.scale, frc_k_min_inv_A
    )
    registered = np.full(image.shape, np.nan)
    registered[mask] = g
    warnings = [far] if far else []
    if r < 0:
        warnings.append("negative correlation: is the phase sign inverted (conjugate object)?")
    return Score(
        pearson_r=r,
        gain=gain,
        offset_rad=offset,
        shift_A=(float(transform.shift[0]), float(transform.shift[1])),
        scale=transform.scale,
        rotation_deg=math.degrees(transform.theta),
        frc=frc,
        n_pixels=int(mask.sum()),
        warnings=tuple(warnings),
        registered_truth=registered,
    )
