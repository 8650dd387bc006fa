"""The checks of a call to :meth:`DatasetWriter.write_frames`, all made before it stores
anything, so a rejected call stores nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ptyflow.errors import DatasetError

__all__ = ["check_frames"]


def check_frames(
    path: Path,
    start: int,
    frames: NDArray[Any],
    frame_shape: tuple[int, ...],
    dtype: np.dtype[Any],
    accepted: NDArray[np.bool_],
    live: NDArray[Any] | None,
) -> None:
    """Raise :class:`DatasetError` unless ``frames`` ``(n, *frame_shape)`` of ``dtype``, all
    finite, fit at flat indices ``start …`` of the scan where none was ``accepted`` yet, and
    ``live`` is None or ``(n, 5)``."""
    n_nav = accepted.size
    if frames.shape[1:] != frame_shape or frames.ndim != len(frame_shape) + 1:
        raise DatasetError(
            f"{path}: frames from index {start}: got array of shape {frames.shape}, "
            f"expected (n, {', '.join(map(str, frame_shape))})"
        )
    if frames.dtype != dtype:
        raise DatasetError(
            f"{path}: frames from index {start}: dtype {frames.dtype}, expected {dtype}"
        )
    stop = start + len(frames)
    if start < 0 or stop > n_nav:
        raise DatasetError(
            f"{path}: frame indices {start}…{stop - 1} outside the scan (0…{n_nav - 1})"
        )

    def nav_index(flat: int) -> tuple[int, ...]:
        return tuple(int(i) for i in np.unravel_index(flat, accepted.shape))

    if (dup := np.flatnonzero(accepted.reshape(-1)[start:stop])).size:
        i = start + int(dup[0])
        raise DatasetError(
            f"{path}: frame {i} {nav_index(i)} was already written; "
            "nothing from this call was stored"
        )
    if frames.dtype.kind == "f" and not (finite := np.isfinite(frames)).all():
        i = start + int(np.flatnonzero(~finite.reshape(len(frames), -1).all(axis=1))[0])
        raise DatasetError(
            f"{path}: frame {i} {nav_index(i)} holds NaN or infinity; stored "
            "values must be finite (NaN is the fill of frames never received); nothing "
            "from this call was stored"
        )
    if live is not None and np.shape(live) != (len(frames), 5):
        raise DatasetError(
            f"{path}: live sums from index {start}: shape {np.shape(live)}, "
            f"expected ({len(frames)}, 5)"
        )
