"""The ground truth band-limited to a result's grid and sampled at any scan-frame point."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from ptyflow.dataset import GroundTruth

__all__ = ["TruthSampler"]


def _box_lowpass(
    image: NDArray[np.float64], pixel_A: float, cutoff_inv_A: float
) -> NDArray[np.float64]:
    """Keep |ky|, |kx| ≤ cutoff (the Nyquist square of the result's grid); periodic FFT."""
    ky = np.fft.fftfreq(image.shape[0], pixel_A)[:, None]
    kx = np.fft.fftfreq(image.shape[1], pixel_A)[None, :]
    keep = (np.abs(ky) <= cutoff_inv_A) & (np.abs(kx) <= cutoff_inv_A)
    return np.real(np.fft.ifft2(np.fft.fft2(image) * keep))


class TruthSampler:
    """The truth's projected phase band-limited to what a grid of ``pixel_size_A`` can hold,
    then sampled by cubic splines: an exact resampling of a band-limited image.

    A periodic truth (one whole period) wraps; a crop is mirrored before the low-pass so
    its edges do not ring into the field, and sampling outside it is an error for the caller
    to report (:meth:`outside`).
    """

    def __init__(self, truth: GroundTruth, pixel_size_A: float) -> None:
        self.truth = truth
        phase = truth.projected_phase
        cutoff = 0.5 / pixel_size_A
        if truth.periodic:
            low = _box_lowpass(phase, truth.pixel_size_A, cutoff)
            self._mode = "grid-wrap"
        else:
            pad = (phase.shape[0] // 2, phase.shape[1] // 2)
            padded = np.pad(phase, ((pad[0],) * 2, (pad[1],) * 2), mode="symmetric")
            low = _box_lowpass(padded, truth.pixel_size_A, cutoff)
            low = low[pad[0] : pad[0] + phase.shape[0], pad[1] : pad[1] + phase.shape[1]]
            self._mode = "mirror"
        self._coefficients = ndimage.spline_filter(low, order=3, mode=self._mode)

    def _pixels(self, y_A: NDArray[np.float64], x_A: NDArray[np.float64]) -> NDArray[np.float64]:
        oy, ox = self.truth.origin_A
        p = self.truth.pixel_size_A
        return np.array([(np.ravel(y_A) - oy) / p, (np.ravel(x_A) - ox) / p])

    def outside(self, y_A: NDArray[np.float64], x_A: NDArray[np.float64]) -> float:
        """Fraction of the points that lie outside a cropped truth (0 for a periodic one)."""
        if self.truth.periodic:
            return 0.0
        c = self._pixels(y_A, x_A)
        n = np.asarray(self.truth.phase.shape[1:], dtype=float)[:, None]
        return float(np.mean(np.any((c < -0.5) | (c > n - 0.5), axis=0)))

    def sample(self, y_A: NDArray[np.float64], x_A: NDArray[np.float64]) -> NDArray[np.float64]:
        """The band-limited truth phase [rad] at scan-frame points (y, x) [Å]."""
        values = ndimage.map_coordinates(
            self._coefficients,
            self._pixels(y_A, x_A),
            order=3,
            mode=self._mode,
            prefilter=False,
        )
        return values.reshape(np.shape(y_A))
