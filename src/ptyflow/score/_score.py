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
from scipy import ndimage, optimize
from scipy.spatial import ConvexHull, QhullError

from ptyflow.dataset import GroundTruth
from ptyflow.errors import ScoreError
from ptyflow.score._metrics import FRC, fourier_ring_correlation, gain_offset, pearson_r
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


@dataclass
class _Transform:
    """Result point s → truth point c + scale·R(θ)(s − c) + shift (θ from +x towards +y)."""

    center: NDArray[np.float64]
    shift: NDArray[np.float64]
    scale: float = 1.0
    theta: float = 0.0

    def __call__(
        self, y: NDArray[np.float64], x: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        c, s = math.cos(self.theta), math.sin(self.theta)
        dy, dx = y - self.center[0], x - self.center[1]
        ty = self.center[0] + self.scale * (s * dx + c * dy) + self.shift[0]
        tx = self.center[1] + self.scale * (c * dx - s * dy) + self.shift[1]
        return ty, tx


def _candidate_shifts(
    image: NDArray[np.float64],
    y: NDArray[np.float64],
    x: NDArray[np.float64],
    sampler: TruthSampler,
    pixel_A: float,
    max_shift_A: float,
    n_candidates: int = 8,
) -> list[NDArray[np.float64]]:
    """Whole-pixel shifts [Å] at the best peaks of the normalised cross-correlation within
    ±``max_shift_A`` (a disk), best first.

    Several peaks, because at whole pixels a crystal's near-equivalent sites can outscore
    the true one, which only wins once aligned to a fraction of a pixel.
    """
    from skimage.feature import match_template

    m = max(1, math.ceil(max_shift_A / pixel_A))
    span = np.arange(-m, image.shape[0] + m) * pixel_A
    wide_y, wide_x = np.meshgrid(y[0, 0] + span, x[0, 0] + span, indexing="ij")
    ncc = match_template(sampler.sample(wide_y, wide_x), image)
    offsets = np.indices(ncc.shape).reshape(2, -1).T - m
    inside = np.hypot(*offsets.T) * pixel_A <= max_shift_A + 1e-9
    peak = (ncc == ndimage.maximum_filter(ncc, size=3, mode="nearest")).ravel()
    keep = np.flatnonzero(inside & peak)
    keep = keep[np.argsort(ncc.ravel()[keep])[::-1][:n_candidates]]
    return [offsets[i] * pixel_A for i in keep] or [np.zeros(2)]


def _register(
    image: NDArray[np.float64],
    y: NDArray[np.float64],
    x: NDArray[np.float64],
    sampler: TruthSampler,
    transform: _Transform,
    pixel_A: float,
    max_shift_A: float,
) -> str | None:
    """Set ``transform.shift`` to the sub-pixel shift of best Pearson r within
    ±``max_shift_A``. Twice as far is searched too: a clearly better match out there
    (r higher by > 0.05) comes back as a warning, since the calibration is then off."""
    found: list[tuple[float, float, NDArray[np.float64]]] = []
    for start in _candidate_shifts(image, y, x, sampler, pixel_A, 2 * max_shift_A):
        transform.shift = start
        _refine_shift(image, y, x, sampler, transform, pixel_A)
        r = pearson_r(image, sampler.sample(*transform(y, x)))
        found.append((math.hypot(*transform.shift), r, transform.shift))
    inside = [f for f in found if f[0] <= max_shift_A] or [(0.0, -1.0, np.zeros(2))]
    best_in, best = max(inside, key=lambda f: f[1]), max(found, key=lambda f: f[1])
    transform.shift = best_in[2]
    if best[1] > best_in[1] + 0.05:
        return (
            f"the best match lies {best[0]:.2f} Å away (r = {best[1]:.3f}), beyond the "
            f"±{max_shift_A:g} Å search (r = {best_in[1]:.3f} inside): the result's origin, "
            "pixel size or scan rotation is off (or widen --max-shift-A)"
        )
    return None


def _refine_shift(
    image: NDArray[np.float64],
    y: NDArray[np.float64],
    x: NDArray[np.float64],
    sampler: TruthSampler,
    transform: _Transform,
    pixel_A: float,
    n_iter: int = 8,
) -> None:
    """Iterated sub-pixel phase correlation (upsampled 100×) of the square against the truth
    resampled where the transform says it lies; updates ``transform.shift`` in place."""
    from skimage.registration import phase_cross_correlation

    window = np.outer(np.hanning(image.shape[0]), np.hanning(image.shape[1]))
    moving = (image - image.mean()) * window
    for _ in range(n_iter):
        g = sampler.sample(*transform(y, x))
        step, _, _ = phase_cross_correlation(
            (g - g.mean()) * window, moving, upsample_factor=100, normalization=None
        )
        # the result shifted by `step` matches g: result pixel p shows the truth at p + step
        c, s = math.cos(transform.theta), math.sin(transform.theta)
        sy, sx = transform.scale * pixel_A * step
        transform.shift = transform.shift + np.array([c * sy + s * sx, c * sx - s * sy])
        if math.hypot(*step) < 0.01:
            break


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
    center = np.array([y[sq].mean(), x[sq].mean()])
    transform = _Transform(center=center, shift=np.zeros(2))
    far = _register(image[sq], y[sq], x[sq], sampler, transform, pixel_size_A, max_shift_A)
    if fit_scale or fit_rotation:
        _fit_scale_rotation(
            image[sq], y[sq], x[sq], sampler, transform, pixel_size_A, fit_scale, fit_rotation
        )
    g = sampler.sample(*transform(y[mask], x[mask]))
    r = pearson_r(image[mask], g)
    gain, offset = gain_offset(image[mask], g)
    g_square = sampler.sample(*transform(y[sq], x[sq]))
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


def _fit_scale_rotation(
    image: NDArray[np.float64],
    y: NDArray[np.float64],
    x: NDArray[np.float64],
    sampler: TruthSampler,
    transform: _Transform,
    pixel_A: float,
    fit_scale: bool,
    fit_rotation: bool,
) -> None:
    """Nelder–Mead over scale and/or rotation, the shift re-registered at each trial."""

    def apply(params: NDArray[np.float64]) -> None:
        transform.scale = float(params[0]) if fit_scale else 1.0
        transform.theta = float(params[-1]) if fit_rotation else 0.0

    def cost(params: NDArray[np.float64]) -> float:
        apply(params)
        _refine_shift(image, y, x, sampler, transform, pixel_A, n_iter=3)
        return -pearson_r(image, sampler.sample(*transform(y, x)))

    start = np.array(([1.0] if fit_scale else []) + ([0.0] if fit_rotation else []))
    best = optimize.minimize(
        cost, start, method="Nelder-Mead", options={"xatol": 1e-4, "fatol": 1e-6, "maxiter": 200}
    )
    apply(best.x)
    _refine_shift(image, y, x, sampler, transform, pixel_A)
