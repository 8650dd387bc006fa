"""Band-limited periodic fields of (y, x), known by their Fourier coefficients.

A periodic specimen (a crystal supercell, or a phase image taken as one period) is held as
f(r) = Σ_G c(G) exp(2πi G·r) over the reciprocal lattice G = (m/Ly, n/Lx) of its cell, cut at
a band limit. Such a field can be sampled exactly on *any* grid: on the cell's own regular
grid by an inverse FFT, and on an arbitrary grid (whose pixel need not divide the cell) by the
separable sum E_y @ C @ E_xᵀ. That is how a specimen meets a simulation grid whose pixel
size is set by the detector rather than by the crystal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ptyflow.errors import PhysicsError

__all__ = ["PeriodicField", "harmonic_orders"]


def harmonic_orders(cell_A: float, cutoff_inv_A: float) -> NDArray[np.int64]:
    """The integer orders m with |m|/cell ≤ cutoff, in FFT order (0, 1, …, M, −M, …, −1)."""
    m_max = int(np.floor(cutoff_inv_A * cell_A + 1e-9))
    return np.concatenate([np.arange(0, m_max + 1), np.arange(-m_max, 0)])


@dataclass(frozen=True)
class PeriodicField:
    """c(G) on the orders (orders_y × orders_x) of a cell (Ly, Lx) [Å]; leading axes are a stack.

    The coefficients are zero outside the circular band limit they were made with.
    """

    cell_A: tuple[float, float]
    orders_y: NDArray[np.int64]
    orders_x: NDArray[np.int64]
    coefficients: NDArray[np.complex128]

    @classmethod
    def zeros(
        cls, cell_A: tuple[float, float], cutoff_inv_A: float, stack: tuple[int, ...] = ()
    ) -> PeriodicField:
        """An all-zero field band-limited to |G| ≤ cutoff [1/Å]."""
        oy = harmonic_orders(cell_A[0], cutoff_inv_A)
        ox = harmonic_orders(cell_A[1], cutoff_inv_A)
        return cls(cell_A, oy, ox, np.zeros((*stack, oy.size, ox.size), dtype=np.complex128))

    @classmethod
    def from_samples(
        cls, samples: NDArray[np.number], cell_A: tuple[float, float], cutoff_inv_A: float
    ) -> PeriodicField:
        """The band-limited Fourier series of regular samples that span exactly one cell.

        ``samples[..., i, j]`` is the field at (i·Ly/ny, j·Lx/nx).
        """
        ny, nx = samples.shape[-2:]
        field = cls.zeros(cell_A, cutoff_inv_A)
        if 2 * field.orders_y.max() >= ny or 2 * field.orders_x.max() >= nx:
            raise PhysicsError(
                f"samples of shape {(ny, nx)} over a {cell_A} Å cell do not resolve the band "
                f"limit {cutoff_inv_A:.4g} 1/Å; finer samples are needed"
            )
        spectrum = np.fft.fft2(samples) / (ny * nx)
        coeffs = spectrum[..., field.orders_y[:, None] % ny, field.orders_x[None, :] % nx]
        return cls(cell_A, field.orders_y, field.orders_x, coeffs * field.band_mask(cutoff_inv_A))

    def frequencies(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(gy of shape (My, 1), gx of shape (1, Mx)) [1/Å]."""
        return (self.orders_y / self.cell_A[0])[:, None], (self.orders_x / self.cell_A[1])[None, :]

    def band_mask(self, cutoff_inv_A: float) -> NDArray[np.bool_]:
        """True where |G| ≤ cutoff [1/Å]."""
        gy, gx = self.frequencies()
        return gy**2 + gx**2 <= cutoff_inv_A**2 * (1.0 + 1e-12)

    def sample_cell(self, shape: tuple[int, int]) -> NDArray[np.complex128]:
        """The field on the regular ``shape`` grid spanning one cell (exact, by inverse FFT)."""
        ny, nx = shape
        if 2 * self.orders_y.max() >= ny or 2 * self.orders_x.max() >= nx:
            raise PhysicsError(f"grid {shape} is too coarse for the field's band limit")
        spectrum = np.zeros((*self.coefficients.shape[:-2], ny, nx), dtype=np.complex128)
        spectrum[..., self.orders_y[:, None] % ny, self.orders_x[None, :] % nx] = self.coefficients
        return np.fft.ifft2(spectrum) * (ny * nx)

    def sample(self, y_A: NDArray[np.floating], x_A: NDArray[np.floating]) -> NDArray[np.complex64]:
        """The field at the grid points (y_A[i], x_A[j]) [Å], as complex64 (..., ny, nx).

        Computed as E_y @ C @ E_xᵀ with E_y[i, m] = exp(2πi gy_m y_i), in single precision:
        it is a pair of matrix products, fast for any grid.
        """
        gy, gx = self.frequencies()
        e_y = np.exp(2j * np.pi * np.asarray(y_A, dtype=np.float64)[:, None] * gy[:, 0][None, :])
        e_x = np.exp(2j * np.pi * np.asarray(x_A, dtype=np.float64)[:, None] * gx[0, :][None, :])
        c = self.coefficients.astype(np.complex64)
        return e_y.astype(np.complex64) @ c @ e_x.T.astype(np.complex64)
