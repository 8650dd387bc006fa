"""Numba kernels: k×k binning, label-mask sums, dense-mask products, centre-of-mass moments.

Every kernel takes a batch of frames ``(n, ky, kx)`` (uint8, uint16, uint32 or float32;
``dense_live`` the same frames flattened to ``(n, pixels)``) and writes into output arrays
the caller provides; none allocates more than a row of scratch per call. All are ``nogil``,
so threads run them in parallel, and ``cache=True``, so a compiled kernel is loaded from
Numba's on-disk cache by the next process.

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
    "dense_live",
    "label_live",
    "moments",
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
            # constant strides: deinterleaving shuffles instead of gathers
            if factor == 2:
                for bx in range(ox):
                    orow[bx] = rows[2 * bx] + rows[2 * bx + 1]
                continue
            if factor == 4:
                for bx in range(ox):
                    orow[bx] = rows[4 * bx] + rows[4 * bx + 1] + rows[4 * bx + 2] + rows[4 * bx + 3]
                continue
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
def _dense_store(out: Any, live_out: Any, i: int, k: int, value: Any) -> None:
    """Column ``k`` of the dense product: a mask signal, then the five live sums."""
    n_signals = out.shape[1]
    if k < n_signals:
        out[i, k] = value
    elif k - n_signals < live_out.shape[1]:
        live_out[i, k - n_signals] = value


@_jit
def dense_live(frames: Any, weights: Any, out: Any, live_out: Any) -> None:
    """The dense-mask path: ``frames (n, pixels) @ weights.T`` in float32, where ``weights``
    ``(n_signals + 5 [+ 1], pixels)`` holds the masks, then the five live maps (padded with
    a zero row to an even count). Columns go to ``out`` then ``live_out``.

    Blocked 4 frames × 2 weight rows, so each weight load serves four frames and the
    counts are converted to float32 once per block; BLAS is avoided on purpose: its own
    thread pool stalls when the callers' threads already fill the cores.
    """
    n, npix = frames.shape
    m = weights.shape[0]
    full = n - n % 4
    for i in range(0, full, 4):
        for k in range(0, m, 2):
            w0, w1 = weights[k], weights[k + 1]
            s0 = s1 = s2 = s3 = t0 = t1 = t2 = t3 = np.float32(0)
            for j in range(npix):
                a0 = np.float32(frames[i, j])
                a1 = np.float32(frames[i + 1, j])
                a2 = np.float32(frames[i + 2, j])
                a3 = np.float32(frames[i + 3, j])
                s0 += a0 * w0[j]
                s1 += a1 * w0[j]
                s2 += a2 * w0[j]
                s3 += a3 * w0[j]
                t0 += a0 * w1[j]
                t1 += a1 * w1[j]
                t2 += a2 * w1[j]
                t3 += a3 * w1[j]
            for d, (s, t) in enumerate(((s0, t0), (s1, t1), (s2, t2), (s3, t3))):
                _dense_store(out, live_out, i + d, k, s)
                _dense_store(out, live_out, i + d, k + 1, t)
    for i in range(full, n):
        for k in range(m):
            s = np.float32(0)
            for j in range(npix):
                s += np.float32(frames[i, j]) * weights[k, j]
            _dense_store(out, live_out, i, k, s)


def accumulator_zero(dtype: np.dtype[Any]) -> np.int64 | np.float64:
    """The zero the kernels accumulate from: int64 for integer frames (exact, and integer
    sums vectorise best), float64 for float frames."""
    return np.float64(0.0) if dtype.kind == "f" else np.int64(0)


#: The public kernels by name (for warm-up and ``ptyflow info --kernels``).
KERNELS: dict[str, Any] = {
    "bin_live": bin_live,
    "dense_live": dense_live,
    "label_live": label_live,
    "moments": moments,
}
