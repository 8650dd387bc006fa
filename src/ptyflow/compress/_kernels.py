"""Numba kernels: k×k binning, label-mask sums, centre-of-mass moments, float conversion.

Every kernel takes a batch of frames ``(n, ky, kx)`` (uint8, uint16, uint32 or float32)
and writes into output arrays the caller provides; none allocates more than a row of
scratch per call. All are ``nogil``, so threads run them in parallel, and ``cache=True``,
so a compiled kernel is loaded from Numba's on-disk cache by the next process.

The live images (``docs/dataset-store.md`` §5) ride along: ``live_out[i]`` receives the five
weight sums ``(bf, adf, sum, Σ k_y I, Σ k_x I)`` of frame ``i`` in the same sweep.

Label masks are given as *runs*: each frame row is cut into runs of pixels that share one
mask label and one live label (``_runs.py``); a run's sum is a difference of the row's prefix
sums, so a frame costs two sweeps and one add per run instead of a scatter per pixel.
Integer frames are summed in int64 (exact), float frames in float64.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

__all__ = [
    "KERNELS",
    "accumulator_zero",
    "bin_live",
    "label_live",
    "moments",
    "to_float32",
]

# fastmath lets LLVM vectorise float reductions (integer ones vectorise anyway); frames are
# finite counts, so its no-NaN/no-inf assumptions hold.
_jit = numba.njit(nogil=True, cache=True, fastmath=True)
LIVE_BF, LIVE_ADF = 1, 2  # run_live codes; 0: neither


@_jit
def _live_frame(
    frame: Any,
    row_ptr: Any,
    run_start: Any,
    run_stop: Any,
    run_label: Any,
    run_live: Any,
    k_y: Any,
    k_x: Any,
    zero: Any,
    acc: Any,
    colsum: Any,
    prefix: Any,
    live_row: Any,
) -> None:
    """One frame: per-label sums into ``acc`` and the five live sums into ``live_row``.
    ``colsum`` (frame width) and ``prefix`` (width + 1, ``prefix[0] == 0``) are scratch;
    ``acc``, ``colsum`` and ``prefix`` have ``zero``'s type."""
    ny, nx = frame.shape
    acc[:] = 0
    colsum[:] = 0
    bf = zero
    adf = zero
    sy = 0.0
    for y in range(ny):
        row = frame[y]
        for x in range(nx):  # vectorises
            colsum[x] += row[x]
        # A run's sum is a difference of prefix sums: runs are short (a few pixels), and a
        # loop per run costs more than one sequential pass.
        c = zero
        for x in range(nx):
            c += row[x]
            prefix[x + 1] = c
        for r in range(row_ptr[y], row_ptr[y + 1]):
            s = prefix[run_stop[r]] - prefix[run_start[r]]
            label = run_label[r]
            if label >= 0:
                acc[label] += s
            live = run_live[r]
            if live == LIVE_BF:
                bf += s
            elif live == LIVE_ADF:
                adf += s
        rowsum = c
        sy += rowsum * k_y[y]
    total = zero
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
    run_start: Any,
    run_stop: Any,
    run_label: Any,
    run_live: Any,
    k_y: Any,
    k_x: Any,
    zero: Any,
    out: Any,
    live_out: Any,
) -> None:
    """``out[i, m] = Σ frame_i`` over the pixels of label ``m``; ``live_out[i]`` the live sums.

    ``zero`` is the accumulator's zero (:func:`accumulator_zero`). ``out`` may have zero
    columns (live images alone); labels ≥ ``out.shape[1]`` never occur.
    """
    n, _, nx = frames.shape
    n_labels = out.shape[1]
    acc = np.full(max(n_labels, 1), zero)
    colsum = np.full(nx, zero)
    prefix = np.full(nx + 1, zero)
    for i in range(n):
        _live_frame(
            frames[i],
            *(row_ptr, run_start, run_stop, run_label, run_live, k_y, k_x, zero),
            acc,
            colsum,
            prefix,
            live_out[i],
        )
        for m in range(n_labels):
            out[i, m] = acc[m]


@_jit
def bin_live(
    frames: Any,
    factor: int,
    out: Any,
    row_ptr: Any,
    run_start: Any,
    run_stop: Any,
    run_label: Any,
    run_live: Any,
    k_y: Any,
    k_x: Any,
    zero: Any,
    live_out: Any,
) -> None:
    """``out[i]`` = frame ``i`` summed over ``factor`` × ``factor`` blocks (exact in ``out``'s
    dtype, which the caller chose wide enough); ``live_out[i]`` the live sums of the binned
    frame, with runs and ``k_y``/``k_x`` on the binned grid."""
    n, _, nx = frames.shape
    oy, ox = out.shape[1], out.shape[2]
    acc = np.full(1, zero)
    colsum = np.full(ox, zero)
    prefix = np.full(ox + 1, zero)
    rows = np.empty(nx, out.dtype)  # the factor rows of one output row, summed
    for i in range(n):
        frame = frames[i]
        binned = out[i]
        for by in range(oy):
            rows[:] = 0
            for j in range(factor):  # contiguous: vectorises
                row = frame[by * factor + j]
                for x in range(nx):
                    rows[x] += row[x]
            orow = binned[by]
            for bx in range(ox):
                orow[bx] = rows[bx * factor]
            for m in range(1, factor):
                for bx in range(ox):
                    orow[bx] += rows[bx * factor + m]
        _live_frame(
            binned,
            *(row_ptr, run_start, run_stop, run_label, run_live, k_y, k_x, zero),
            acc,
            colsum,
            prefix,
            live_out[i],
        )


@_jit
def moments(frames: Any, k_y: Any, k_x: Any, zero: Any, out: Any) -> None:
    """``out[i] = (Σ I, Σ k_y I, Σ k_x I)`` of frame ``i``; the centre of mass is
    ``out[i, 1:] / out[i, 0]``. ``zero``: the accumulator's zero (:func:`accumulator_zero`)."""
    n, ny, nx = frames.shape
    colsum = np.full(nx, zero)
    for i in range(n):
        colsum[:] = 0
        sy = 0.0
        for y in range(ny):
            row = frames[i, y]
            rowsum = zero
            for x in range(nx):
                colsum[x] += row[x]
                rowsum += row[x]
            sy += rowsum * k_y[y]
        total = zero
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


def accumulator_zero(dtype: np.dtype[Any]) -> np.int64 | np.float64:
    """The zero the kernels accumulate from: int64 for integer frames (exact, and integer
    sums vectorise best), float64 for float frames."""
    return np.float64(0.0) if dtype.kind == "f" else np.int64(0)


#: The public kernels by name (for warm-up and ``ptyflow info --kernels``).
KERNELS: dict[str, Any] = {
    "bin_live": bin_live,
    "label_live": label_live,
    "moments": moments,
    "to_float32": to_float32,
}
