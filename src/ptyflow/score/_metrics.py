"""Image-comparison metrics: Pearson r, gain, and the Fourier ring correlation (FRC)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["FRC", "fourier_ring_correlation", "gain_offset", "pearson_r"]


def pearson_r(a: NDArray[np.float64], b: NDArray[np.float64]) -> float:
    """Pearson correlation coefficient of two equally shaped arrays."""
    a, b = a - a.mean(), b - b.mean()
    denominator = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denominator) if denominator > 0 else 0.0


def gain_offset(result: NDArray[np.float64], truth: NDArray[np.float64]) -> tuple[float, float]:
    """Least-squares fit ``result ≈ gain · truth + offset``: the slope of result on truth.

    A gain below 1 means the result's contrast is too weak (as amplitude losses give at low
    dose); an offset is meaningless for a phase and only reported.
    """
    t = truth - truth.mean()
    variance = float((t * t).sum())
    gain = float((t * (result - result.mean())).sum() / variance) if variance > 0 else 0.0
    return gain, float(result.mean() - gain * truth.mean())


@dataclass(frozen=True)
class FRC:
    """A Fourier ring correlation curve and the resolutions where it crosses its thresholds."""

    k_inv_A: NDArray[np.float64]  # ring spatial frequency [1/Å]
    frc: NDArray[np.float64]
    half_bit: NDArray[np.float64]  # van Heel & Schatz half-bit threshold per ring
    resolution_A: float  # where FRC first drops below 1/7 (above k_min) [Å]
    resolution_half_bit_A: float  # ... below the half-bit threshold [Å]
    nyquist_A: float  # 2 × pixel size: the best resolution the grid can show [Å]


def _crossing(
    k: NDArray[np.float64], curve: NDArray[np.float64], thr: NDArray[np.float64], first: int
) -> float:
    """1/k where ``curve`` first drops below ``thr`` from ring ``first`` on (linear
    interpolation); the Nyquist resolution if never; inf if it starts below."""
    if curve[first] < thr[first]:
        return float("inf")
    for i in range(first + 1, len(curve)):
        if curve[i] < thr[i]:
            d0, d1 = curve[i - 1] - thr[i - 1], curve[i] - thr[i]
            kc = k[i - 1] + d0 / (d0 - d1) * (k[i] - k[i - 1])
            return float(1.0 / kc) if kc > 0 else float("inf")
    return float(1.0 / k[-1])


def fourier_ring_correlation(
    a: NDArray[np.float64], b: NDArray[np.float64], pixel_size_A: float, k_min_inv_A: float = 0.0
) -> FRC:
    """FRC of two equal square images (Hann-windowed against edge artefacts).

    Threshold crossings below ``k_min_inv_A`` are ignored: in a crystal the rings inside
    the first Bragg ring carry almost no signal, so the curve dips there without meaning.
    """
    n = a.shape[0]
    window = np.outer(np.hanning(n), np.hanning(n))
    fa = np.fft.fftshift(np.fft.fft2((a - a.mean()) * window))
    fb = np.fft.fftshift(np.fft.fft2((b - b.mean()) * window))
    yy, xx = np.indices((n, n)) - n // 2
    ring = np.round(np.hypot(yy, xx)).astype(int).ravel()
    n_rings = n // 2 + 1

    def ring_sum(values: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.bincount(ring, values.ravel(), minlength=n_rings)[:n_rings].astype(np.float64)

    cross = ring_sum((fa * np.conj(fb)).real)
    power = np.sqrt(ring_sum(np.abs(fa) ** 2) * ring_sum(np.abs(fb) ** 2))
    curve = np.divide(cross, power, out=np.zeros_like(cross), where=power > 0)
    n_pix = np.bincount(ring, minlength=n_rings)[:n_rings].astype(np.float64)
    half_bit = (0.2071 + 1.9102 / np.sqrt(n_pix)) / (1.2071 + 0.9102 / np.sqrt(n_pix))
    k = np.arange(n_rings) / (n * pixel_size_A)
    first = max(1, int(np.searchsorted(k, k_min_inv_A)))
    first = min(first, n_rings - 2)
    return FRC(
        k_inv_A=k,
        frc=curve,
        half_bit=half_bit,
        resolution_A=_crossing(k, curve, np.full_like(curve, 1.0 / 7.0), first),
        resolution_half_bit_A=_crossing(k, curve, half_bit, first),
        nyquist_A=2.0 * pixel_size_A,
    )
