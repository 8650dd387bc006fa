"""A regular 2D sampling grid and its spatial frequencies."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ptyflow.errors import PhysicsError

__all__ = ["ANTIALIAS_FRACTION", "Grid", "center_pixel"]

#: Fraction of the Nyquist frequency kept by the anti-aliasing band limit. Products of two
#: functions limited to 2/3 of Nyquist alias only into the discarded outer third, which the
#: next band limit removes, so nothing aliases back into the kept band.
ANTIALIAS_FRACTION: float = 2.0 / 3.0


def center_pixel(shape: tuple[int, ...]) -> tuple[int, ...]:
    """The pixel of k = 0 (of a detector) or r = 0 (of a probe window): n//2 on every axis,
    where ``np.fft.fftshift`` puts the zero frequency."""
    return tuple(n // 2 for n in shape)


@dataclass(frozen=True)
class Grid:
    """``shape`` (ny, nx) [pixels] sampled every ``sampling_A`` (dy, dx) [Å]; arrays are (y, x).

    Frequencies are in FFT order (k = 0 at index 0); ``np.fft.fftshift`` moves k = 0 to
    pixel (ny//2, nx//2).
    """

    shape: tuple[int, int]
    sampling_A: tuple[float, float]

    def __post_init__(self) -> None:
        if len(self.shape) != 2 or min(self.shape) < 1:
            raise PhysicsError(f"grid shape must be two positive integers (got {self.shape!r})")
        if len(self.sampling_A) != 2 or not min(self.sampling_A) > 0.0:
            raise PhysicsError(
                f"grid sampling_A must be two positive sizes (got {self.sampling_A!r})"
            )

    @property
    def extent_A(self) -> tuple[float, float]:
        """Field of view (Ly, Lx) [Å]."""
        return (self.shape[0] * self.sampling_A[0], self.shape[1] * self.sampling_A[1])

    @property
    def reciprocal_sampling_inv_A(self) -> tuple[float, float]:
        """Frequency step (dky, dkx) = 1/extent [1/Å]."""
        return (1.0 / self.extent_A[0], 1.0 / self.extent_A[1])

    def frequencies(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(ky column of shape (ny, 1), kx row of shape (1, nx)) [1/Å], FFT order."""
        ky = np.fft.fftfreq(self.shape[0], self.sampling_A[0]).astype(np.float64)
        kx = np.fft.fftfreq(self.shape[1], self.sampling_A[1]).astype(np.float64)
        return ky[:, None], kx[None, :]

    def k2(self) -> NDArray[np.float64]:
        """|k|² [1/Å²] on the grid, FFT order."""
        ky, kx = self.frequencies()
        return ky**2 + kx**2

    @property
    def antialias_cutoff_inv_A(self) -> float:
        """Radius of the anti-aliasing band limit: 2/3 of the smaller Nyquist frequency [1/Å]."""
        return ANTIALIAS_FRACTION / (2.0 * max(self.sampling_A))

    def antialias_mask(self) -> NDArray[np.bool_]:
        """True inside the circular band limit |k| ≤ :attr:`antialias_cutoff_inv_A`, FFT order."""
        return self.k2() <= self.antialias_cutoff_inv_A**2
