"""The simulation window: the real-space patch each diffraction pattern is computed on.

The detector fixes the window. Simulating on a k grid ``oversampling`` times finer than the
detector pixel and summing b×b blocks integrates each pixel (as the reference data were made:
abTEM at 0.0256 1/Å binned 3× to 0.0768 1/Å). The window then spans L = b / pixel_size [Å].
Its N pixels are chosen so that the 2/3 anti-aliasing band limit reaches the detector's
corners: everything the detector can see is simulated, and nothing aliases onto it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy.fft import next_fast_len

from ptyflow.errors import PhysicsError
from ptyflow.physics import ANTIALIAS_FRACTION, Grid, Probe
from ptyflow.physics.forward import DetectorBinning

__all__ = ["MAX_WINDOW_PX", "SimulationWindow"]

#: The largest window side [pixels] the simulator will use (a 4096² complex64 batch of 32
#: positions already needs 4 GiB).
MAX_WINDOW_PX = 4096


def _even_fast_len(n: int) -> int:
    """The smallest even FFT-friendly length ≥ n (even, so the window has a central pixel N//2)."""
    n = next_fast_len(max(n, 2))
    while n % 2:
        n = next_fast_len(n + 1)
    return n


@dataclass(frozen=True)
class SimulationWindow:
    """An N×N window at pixel size dx [Å] and the detector it is binned onto."""

    grid: Grid
    detector_shape: tuple[int, int]
    oversampling: int

    @classmethod
    def for_detector(
        cls,
        shape: tuple[int, int],
        pixel_size_inv_A: float,
        oversampling: int,
        min_cutoff_inv_A: float = 0.0,
    ) -> SimulationWindow:
        """The smallest window whose band limit covers the whole ``shape`` detector and
        reaches at least ``min_cutoff_inv_A`` [1/Å]."""
        b = oversampling
        dk = pixel_size_inv_A / b
        # Distance from k = 0 to the outer edge of the farthest detector pixel, in fine pixels.
        half = [b * (n // 2) + b / 2 for n in shape]
        reach = max(math.hypot(*half), min_cutoff_inv_A / dk)
        n_px = _even_fast_len(math.ceil(reach / (ANTIALIAS_FRACTION / 2) - 1e-9))
        if n_px > MAX_WINDOW_PX:
            raise PhysicsError(
                f"detector.shape {tuple(shape)} with numerics.oversampling {b} (and "
                f"numerics.max_angle_mrad) needs a {n_px}-pixel simulation window (at most "
                f"{MAX_WINDOW_PX}); use fewer detector pixels, less oversampling or a smaller "
                "max angle"
            )
        dx = 1.0 / (n_px * dk)
        return cls(Grid((n_px, n_px), (dx, dx)), (int(shape[0]), int(shape[1])), b)

    @property
    def size(self) -> int:
        """N, the window side [pixels]."""
        return self.grid.shape[0]

    @property
    def pixel_size_A(self) -> float:
        """dx [Å]."""
        return self.grid.sampling_A[0]

    @property
    def binning(self) -> DetectorBinning:
        """Sums fine k pixels (FFT order) into detector pixels; k = 0 at the centre of n//2."""
        return DetectorBinning(self.detector_shape, self.oversampling, self.size)

    def bin_to_detector(self, intensity: torch.Tensor) -> torch.Tensor:
        """Sum a batch of far-field intensities (B, N, N), FFT order, into (B, nky, nkx) pixels."""
        return self.binning(intensity)

    def check_probe(self, probe: Probe) -> None:
        """Raise :class:`PhysicsError` if the probe is too large for the window or too small
        for its k sampling."""
        dk = 1.0 / self.grid.extent_A[0]
        aperture_px = probe.aperture_radius_inv_A / dk
        if aperture_px < 2.0:
            raise PhysicsError(
                f"the {probe.semiangle_mrad} mrad aperture spans only {aperture_px:.2f} simulated "
                "k pixels; use a finer detector.pixel_size_inv_A or a larger "
                "numerics.oversampling"
            )
        intensity = np.abs(probe.real_space(self.grid)) ** 2
        n = self.size
        border = n // 10  # the outer tenth on each side, where wrap-around would show
        inner = intensity[border : n - border, border : n - border].sum()
        if 1.0 - inner > 0.01:
            raise PhysicsError(
                f"the probe does not fit in the {self.grid.extent_A[0]:.1f} Å simulation window "
                f"({100 * (1 - inner):.1f}% of it lies near the edges); use a finer "
                "detector.pixel_size_inv_A, a larger numerics.oversampling or less defocus"
            )
