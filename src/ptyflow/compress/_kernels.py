"""Numba kernels: k×k binning, label-mask sums, centre-of-mass moments, float conversion.

Every kernel takes a batch of frames ``(n, ky, kx)`` (uint8, uint16, uint32 or float32)
and writes into output arrays the caller provides; none allocates more than a row of
scratch per call. All are ``nogil``, so threads run them in parallel, and ``cache=True``,
so a compiled kernel is loaded from Numba's on-disk cache by the next process.

The live images (``docs/dataset-store.md`` §5) ride along: ``live_out[i]`` receives the five
weight sums ``(bf, adf, sum, Σ k_y I, Σ k_x I)`` of frame ``i`` in the same sweep.

Label masks are given as *runs*: each frame row is cut into runs of pixels that share one
mask label and one live label (``_runs.py``), so a segment's sum is a contiguous, SIMD-friendly
sum instead of a scatter with one random write per pixel. Sums are accumulated in float64:
exact for integer counts (every partial sum of a frame stays below 2**53), and the only
reordering ``reassoc`` allows cannot change an exact sum.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

__all__ = [
    "KERNELS",
    "bin_live",
    "label_live",
    "moments",
    "to_float32",
]

_jit = numba.njit(nogil=True, cache=True, fastmath={"reassoc", "contract", "nsz"})
LIVE_BF, LIVE_ADF = 1, 2  # run_live codes; 0: neither


@_jit
def _live_frame(
    frame: Any,
    row_ptr: Any,
    run_stop: Any,
    run_label: Any,
    run_live: Any,
    k_y: Any,
    k_x: Any,
    acc: Any,
    colsum: Any,
    live_row: Any,
) -> None:
    """One frame: per-label sums into ``acc`` (float64) and the five live sums into
    ``live_row``. ``colsum`` is scratch of the frame width."""
    ny, nx = frame.shape
    acc[:] = 0.0
    colsum[:] = 0.0
    bf = 0.0
    adf = 0.0
    sy = 0.0
    for y in range(ny):
        row = frame[y]
        for x in range(nx):
            colsum[x] += row[x]
        rowsum = 0.0
        start = 0
        for r in range(row_ptr[y], row_ptr[y + 1]):
            stop = run_stop[r]
            s = 0.0
            for x in range(start, stop):
                s += row[x]
            label = run_label[r]
            if label >= 0:
                acc[label] += s
            live = run_live[r]
            if live == LIVE_BF:
                bf += s
            elif live == LIVE_ADF:
                adf += s
            rowsum += s
            start = stop
        sy += rowsum * k_y[y]
    total = 0.0
    sx = 0.0
    for x in range(nx):
        total += colsum[x]
        sx += colsum[x] * k_x[x]
    live_row[0] = bf
    live_row[1] = adf
    live_row[2] = total
    live_row[3] = sy
    live_row[4] = sx


@_jit
def label_live(
    frames: Any,
    row_ptr: Any,
    run_stop: Any,
    run_label: Any,
    run_live: Any,
    k_y: Any,
    k_x: Any,
    out: Any,
    live_out: Any,
) -> None:
    """``out[i, m] = Σ frame_i`` over the pixels of label ``m``; ``live_out[i]`` the live sums.

    ``out`` may have zero columns (live images alone); labels ≥ ``out.shape[1]`` never occur.
    """
    n, _, nx = frames.shape
    n_labels = out.shape[1]
    acc = np.empty(max(n_labels, 1), np.float64)
    colsum = np.empty(nx, np.float64)
    for i in range(n):
        _live_frame(
            frames[i], row_ptr, run_stop, run_label, run_live, k_y, k_x, acc, colsum, live_out[i]
        )
        for m in range(n_labels):
            out[i, m] = acc[m]


@_jit
def bin_live(
    frames: Any,
    factor: int,
    out: Any,
    row_ptr: Any,
    run_stop: Any,
    run_label: Any,
    run_live: Any,
    k_y: Any,
    k_x: Any,
    live_out: Any,
) -> None:
    """``out[i]`` = frame ``i`` summed over ``factor`` × ``factor`` blocks (exact in ``out``'s
    dtype, which the caller chose wide enough); ``live_out[i]`` the live sums of the binned
    frame, with runs and ``k_y``/``k_x`` on the binned grid."""
    n = frames.shape[0]
    oy, ox = out.shape[1], out.shape[2]
    acc = np.empty(1, np.float64)
    colsum = np.empty(ox, np.float64)
    for i in range(n):
        frame = frames[i]
        binned = out[i]
        for by in range(oy):
            orow = binned[by]
            orow[:] = 0
            for j in range(factor):
                row = frame[by * factor + j]
                for bx in range(ox):
                    s = orow[bx]
                    for m in range(factor):
                        s += row[bx * factor + m]
                    orow[bx] = s
        _live_frame(
            binned, row_ptr, run_stop, run_label, run_live, k_y, k_x, acc, colsum, live_out[i]
        )


@_jit
def moments(frames: Any, k_y: Any, k_x: Any, out: Any) -> None:
    """``out[i] = (Σ I, Σ k_y I, Σ k_x I)`` of frame ``i``; the centre of mass is
    ``out[i, 1:] / out[i, 0]``."""
    n, ny, nx = frames.shape
    colsum = np.empty(nx, np.float64)
    for i in range(n):
        colsum[:] = 0.0
        sy = 0.0
        for y in range(ny):
            row = frames[i, y]
            rowsum = 0.0
            for x in range(nx):
                colsum[x] += row[x]
                rowsum += row[x]
            sy += rowsum * k_y[y]
        total = 0.0
        sx = 0.0
        for x in range(nx):
            total += colsum[x]
            sx += colsum[x] * k_x[x]
        out[i, 0] = total
        out[i, 1] = sy
        out[i, 2] = sx


@_jit
def to_float32(frames: Any, out: Any) -> None:
    """``out[i]`` = frame ``i`` flattened to float32 (the dense-mask path's matrix product
    input); counts up to 2**24 convert exactly."""
    n, ny, nx = frames.shape
    for i in range(n):
        for y in range(ny):
            row = frames[i, y]
            base = y * nx
            for x in range(nx):
                out[i, base + x] = row[x]


#: The public kernels by name (for warm-up and ``ptyflow info --kernels``).
KERNELS: dict[str, Any] = {
    "bin_live": bin_live,
    "label_live": label_live,
    "moments": moments,
    "to_float32": to_float32,
}
