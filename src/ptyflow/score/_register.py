"""Registration of a square of result pixels on the truth: a shift, and optionally a scale
and a rotation, between the result's scan-frame points and the truth's."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage, optimize

from ptyflow.score._metrics import pearson_r
from ptyflow.score._sampling import TruthSampler

__all__ = ["Registration", "Transform"]


@dataclass
class Transform:
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


@dataclass
class Registration:
    """A square ``image`` of result pixels at scan-frame points (``y``, ``x``) [Å], spaced
    ``pixel_A``, and the :class:`Transform` that puts it on the truth."""

    image: NDArray[np.float64]
    y: NDArray[np.float64]
    x: NDArray[np.float64]
    sampler: TruthSampler
    pixel_A: float
    transform: Transform = field(init=False)

    def __post_init__(self) -> None:
        center = np.array([self.y.mean(), self.x.mean()])
        self.transform = Transform(center=center, shift=np.zeros(2))

    def truth(self) -> NDArray[np.float64]:
        """The truth where the transform puts the image."""
        return self.sampler.sample(*self.transform(self.y, self.x))

    def candidate_shifts(self, max_shift_A: float, n: int = 8) -> list[NDArray[np.float64]]:
        """Whole-pixel shifts [Å] at the best peaks of the normalised cross-correlation
        within ±``max_shift_A`` (a disk), best first.

        Several peaks, because at whole pixels a crystal's near-equivalent sites can
        outscore the true one, which only wins once aligned to a fraction of a pixel.
        """
        from skimage.feature import match_template

        m = max(1, math.ceil(max_shift_A / self.pixel_A))
        span = np.arange(-m, self.image.shape[0] + m) * self.pixel_A
        wide = np.meshgrid(self.y[0, 0] + span, self.x[0, 0] + span, indexing="ij")
        ncc = match_template(self.sampler.sample(*wide), self.image)
        offsets = np.indices(ncc.shape).reshape(2, -1).T - m
        inside = np.hypot(*offsets.T) * self.pixel_A <= max_shift_A + 1e-9
        peak = (ncc == ndimage.maximum_filter(ncc, size=3, mode="nearest")).ravel()
        keep = np.flatnonzero(inside & peak)
        keep = keep[np.argsort(ncc.ravel()[keep])[::-1][:n]]
        return [offsets[i] * self.pixel_A for i in keep] or [np.zeros(2)]

    def refine_shift(self, n_iter: int = 8) -> None:
        """Iterated sub-pixel phase correlation (upsampled 100×) against the truth resampled
        where the transform says the image lies; updates the transform's shift."""
        from skimage.registration import phase_cross_correlation

        window = np.outer(np.hanning(self.image.shape[0]), np.hanning(self.image.shape[1]))
        moving = (self.image - self.image.mean()) * window
        t = self.transform
        for _ in range(n_iter):
            g = self.truth()
            step, _, _ = phase_cross_correlation(
                (g - g.mean()) * window, moving, upsample_factor=100, normalization=None
            )
            # the image shifted by `step` matches g: pixel p shows the truth at p + step
            c, s = math.cos(t.theta), math.sin(t.theta)
            sy, sx = t.scale * self.pixel_A * step
            t.shift = t.shift + np.array([c * sy + s * sx, c * sx - s * sy])
            if math.hypot(*step) < 0.01:
                break

    def register(self, max_shift_A: float) -> str | None:
        """Set the shift of best Pearson r within ±``max_shift_A``. Twice as far is searched
        too: a clearly better match out there (r higher by > 0.05) comes back as a warning,
        since the calibration is then off."""
        found: list[tuple[float, float, NDArray[np.float64]]] = []
        for start in self.candidate_shifts(2 * max_shift_A):
            self.transform.shift = start
            self.refine_shift()
            r = pearson_r(self.image, self.truth())
            found.append((math.hypot(*self.transform.shift), r, self.transform.shift))
        inside = [f for f in found if f[0] <= max_shift_A] or [(0.0, -1.0, np.zeros(2))]
        best_in, best = max(inside, key=lambda f: f[1]), max(found, key=lambda f: f[1])
        self.transform.shift = best_in[2]
        if best[1] > best_in[1] + 0.05:
            return (
                f"the best match lies {best[0]:.2f} Å away (r = {best[1]:.3f}), beyond the "
                f"±{max_shift_A:g} Å search (r = {best_in[1]:.3f} inside): the result's "
                "origin, pixel size or scan rotation is off (or widen --max-shift-A)"
            )
        return None

    def fit_scale_rotation(self, fit_scale: bool, fit_rotation: bool) -> None:
        """Nelder–Mead over scale and/or rotation, the shift re-registered at each trial."""
        t = self.transform

        def apply(params: NDArray[np.float64]) -> None:
            t.scale = float(params[0]) if fit_scale else 1.0
            t.theta = float(params[-1]) if fit_rotation else 0.0

        def cost(params: NDArray[np.float64]) -> float:
            apply(params)
            self.refine_shift(n_iter=3)
            return -pearson_r(self.image, self.truth())

        start = np.array(([1.0] if fit_scale else []) + ([0.0] if fit_rotation else []))
        best = optimize.minimize(
            cost,
            start,
            method="Nelder-Mead",
            options={"xatol": 1e-4, "fatol": 1e-6, "maxiter": 200},
        )
        apply(best.x)
        self.refine_shift()
