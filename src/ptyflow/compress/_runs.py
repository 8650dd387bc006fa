"""Label masks as row runs: the layout the label kernels sweep (see ``_kernels``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ptyflow.compress._kernels import LIVE_ADF, LIVE_BF

__all__ = ["Runs", "build_runs", "live_codes"]

_A = NDArray[Any]


@dataclass(frozen=True)
class Runs:
    """Each frame row cut into runs of pixels sharing one mask label and one live code.

    Row ``y``'s runs are ``row_ptr[y] … row_ptr[y+1]``; run ``r`` covers the pixels
    ``run_start[r] … run_stop[r] - 1`` of its row.
    ``k_y``/``k_x`` [1/Å] are the frequencies of the rows and columns.
    """

    row_ptr: NDArray[np.int64]
    run_start: NDArray[np.int64]
    run_stop: NDArray[np.int64]
    run_label: NDArray[np.int32]  # -1: in no mask
    run_live: NDArray[np.int8]  # 0, LIVE_BF or LIVE_ADF
    k_y: NDArray[np.float64]
    k_x: NDArray[np.float64]

    def args(self) -> tuple[_A, _A, _A, _A, _A, _A, _A]:
        """The kernel arguments, in the kernels' order."""
        return (
            self.row_ptr,
            self.run_start,
            self.run_stop,
            self.run_label,
            self.run_live,
            self.k_y,
            self.k_x,
        )


def live_codes(maps: dict[str, NDArray[np.float32]]) -> NDArray[np.int8]:
    """Per-pixel live code from ``live_detectors`` maps: BF and ADF never overlap."""
    return (LIVE_BF * (maps["bf"] > 0) + LIVE_ADF * (maps["adf"] > 0)).astype(np.int8)


def build_runs(
    labels: NDArray[np.integer],
    live: NDArray[np.int8],
    k_y: NDArray[np.floating],
    k_x: NDArray[np.floating],
) -> Runs:
    """Runs of constant ``(labels, live)`` along each row of a ``(ny, nx)`` frame."""
    ny, nx = labels.shape
    key = labels.astype(np.int64) * 4 + live  # live codes are < 4
    stops, row_ptr = [], [0]
    for y in range(ny):
        breaks = np.flatnonzero(np.diff(key[y])) + 1
        stops.append(np.append(breaks, nx))
        row_ptr.append(row_ptr[-1] + len(stops[-1]))
    run_stop = np.concatenate(stops).astype(np.int64)
    starts = np.concatenate([np.append(0, s[:-1]) for s in stops])
    rows = np.repeat(np.arange(ny), [len(s) for s in stops])
    return Runs(
        row_ptr=np.asarray(row_ptr, dtype=np.int64),
        run_start=starts.astype(np.int64),
        run_stop=run_stop,
        run_label=labels[rows, starts].astype(np.int32),
        run_live=live[rows, starts].astype(np.int8),
        k_y=np.ascontiguousarray(k_y, dtype=np.float64),
        k_x=np.ascontiguousarray(k_x, dtype=np.float64),
    )
