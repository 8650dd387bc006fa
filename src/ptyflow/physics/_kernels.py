"""Numba kernels of the forward model's CPU path (``physics.fused``): each fuses what torch
does in several passes over a batch (building a flat index, gathering, multiplying,
summing over modes, scattering back) into one pass, with the conjugations free.

Shapes: B positions, M modes, N×N window; ``starts`` (B, 2) int64 top-left object pixels,
checked by the caller (the kernels do not bounds-check). ``nogil`` and ``cache=True`` like
``compress._kernels``; serial, so results do not depend on the thread count.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

__all__ = ["gather_multiply", "ramp_adjoint_sum", "ramp_multiply", "slice_adjoint"]

# fastmath: the arrays hold finite wave values, so its no-NaN/no-inf assumptions hold.
_jit = numba.njit(nogil=True, cache=True, fastmath=True, error_model="numpy")


@_jit
def gather_multiply(wave: Any, obj: Any, starts: Any, scale: Any, out: Any) -> None:
    """out[b, m] = scale · wave[b, m] · obj[patch b] (``out`` may be ``wave``)."""
    n_pos, n_modes, n, _ = wave.shape
    for b in range(n_pos):
        y0, x0 = starts[b, 0], starts[b, 1]
        for y in range(n):
            row = obj[y0 + y, x0 : x0 + n]
            for m in range(n_modes):
                w, o = wave[b, m, y], out[b, m, y]
                for x in range(n):
                    o[x] = w[x] * row[x] * scale


@_jit
def slice_adjoint(
    grad: Any, wave: Any, obj: Any, starts: Any, scale: Any, grad_obj: Any, carry: bool
) -> None:
    """The adjoint of :func:`gather_multiply` at one slice: grad_obj[patch b] += scale·Σ_m
    grad·conj(wave) (serially over b: deterministic) and, with ``carry``, grad ←
    scale·grad·conj(t), the gradient of the wave that entered the slice."""
    n_pos, n_modes, n, _ = grad.shape
    for b in range(n_pos):
        y0, x0 = starts[b, 0], starts[b, 1]
        for y in range(n):
            acc = grad_obj[y0 + y, x0 : x0 + n]
            for m in range(n_modes):
                g, w = grad[b, m, y], wave[b, m, y]
                for x in range(n):
                    acc[x] += g[x] * np.conj(w[x]) * scale
            if carry:
                row = obj[y0 + y, x0 : x0 + n]
                for m in range(n_modes):
                    g = grad[b, m, y]
                    for x in range(n):
                        g[x] = g[x] * np.conj(row[x]) * scale


@_jit
def ramp_multiply(probe: Any, ramp_y: Any, ramp_x: Any, scale: Any, out: Any) -> None:
    """out[b, m, y, x] = scale · probe[m, y, x] · ramp_y[b, y] · ramp_x[b, x]."""
    n_pos = ramp_y.shape[0]
    n_modes, n, _ = probe.shape
    for b in range(n_pos):
        rx = ramp_x[b]
        for m in range(n_modes):
            for y in range(n):
                ry, p, o = ramp_y[b, y] * scale, probe[m, y], out[b, m, y]
                for x in range(n):
                    o[x] = p[x] * (ry * rx[x])


@_jit
def ramp_adjoint_sum(grad: Any, ramp_y: Any, ramp_x: Any, scale: Any, out: Any) -> None:
    """out[m] = scale · Σ_b grad[b, m] · conj(ramp_y[b] ⊗ ramp_x[b]): the adjoint of
    :func:`ramp_multiply` in the probe."""
    n_pos, n_modes, n, _ = grad.shape
    out[:] = 0
    for b in range(n_pos):
        rx = ramp_x[b]
        for m in range(n_modes):
            for y in range(n):
                ry, g, o = np.conj(ramp_y[b, y]) * scale, grad[b, m, y], out[m, y]
                for x in range(n):
                    o[x] += g[x] * (ry * np.conj(rx[x]))
