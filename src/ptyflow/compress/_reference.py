"""Plain numpy versions of the kernels: the references tests and benchmarks compare against.

Integer frames are summed in int64, so the references are exact for any counts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["bin_numpy", "masks_numpy", "moments_numpy"]


def _wide(frames: NDArray[Any]) -> NDArray[Any]:
    return frames.astype(np.float64 if frames.dtype.kind == "f" else np.int64)


def bin_numpy(frames: NDArray[Any], factor: int) -> NDArray[Any]:
    """``(n, ky/b, kx/b)`` block sums (int64 for integer frames)."""
    n, ny, nx = frames.shape
    blocks = _wide(frames).reshape(n, ny // factor, factor, nx // factor, factor)
    return blocks.sum(axis=(2, 4))


def masks_numpy(frames: NDArray[Any], masks: NDArray[Any]) -> NDArray[Any]:
    """``(n, n_masks)``: ``Σ mask · frame``; exact int64 for integer frames and 0/1 masks."""
    flat_masks = masks.reshape(len(masks), -1)
    if frames.dtype.kind != "f" and np.isin(flat_masks, (0, 1)).all():
        flat_masks = flat_masks.astype(np.int64)
    else:
        flat_masks = flat_masks.astype(np.float64)
    return _wide(frames).reshape(len(frames), -1) @ flat_masks.T


def moments_numpy(
    frames: NDArray[Any], k_y: NDArray[np.floating], k_x: NDArray[np.floating]
) -> NDArray[np.float64]:
    """``(n, 3)``: ``Σ I``, ``Σ k_y I``, ``Σ k_x I`` per frame."""
    wide = _wide(frames).astype(np.float64)
    return np.stack([wide.sum(axis=(1, 2)), wide.sum(axis=2) @ k_y, wide.sum(axis=1) @ k_x], axis=1)
