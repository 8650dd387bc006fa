"""Side files of an import checked against the config: positions and received frames."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ptyflow.errors import ConfigError
from ptyflow.physics import scan_positions_A

__all__ = ["check_positions", "frames_received", "load_npy"]


def load_npy(path: Path, key: str) -> NDArray[Any]:
    """A small .npy array named by config ``key``; ConfigError naming both if unreadable."""
    try:
        return np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise ConfigError(f"{key} = {str(path)!r}: no such file") from None
    except (OSError, ValueError) as err:
        raise ConfigError(f"{key} = {str(path)!r}: not a readable .npy array: {err}") from None


def frames_received(path: Path | None, scan_shape: tuple[int, int]) -> NDArray[np.bool_]:
    """Which scan positions have a frame: all, or as the bool array in ``path`` says."""
    if path is None:
        return np.ones(scan_shape, dtype=bool)
    mask = load_npy(path, "[source].frames_received_path")
    if mask.shape != tuple(scan_shape) or mask.dtype != np.bool_:
        raise ConfigError(
            f"[source].frames_received_path = {str(path)!r}: expected bool {tuple(scan_shape)} "
            f"(the [scan].shape), got {mask.dtype} {mask.shape}"
        )
    return mask.copy()


def check_positions(
    path: Path, shape: tuple[int, int], step_A: tuple[float, float], rotation_deg: float
) -> None:
    """The positions in ``path`` must be the configured raster, up to a shift (any frame).

    A mismatch is a calibration contradiction: the error says what step and rotation the
    positions themselves show.
    """
    key = "[scan].positions_path"
    positions = load_npy(path, key).astype(np.float64)
    n = shape[0] * shape[1]
    if positions.shape != (n, 2):
        raise ConfigError(
            f"{key} = {str(path)!r}: expected ({n}, 2) (y, x) positions for [scan].shape "
            f"{list(shape)}, got {positions.shape}"
        )
    nominal = scan_positions_A(shape, step_A, rotation_deg)
    offset = positions - positions.mean(axis=0) - nominal
    worst = float(np.abs(offset).max())
    if worst <= 0.02 * min(step_A):
        return
    grid = positions.reshape(*shape, 2)
    fast = np.diff(grid, axis=1).reshape(-1, 2).mean(axis=0) if shape[1] > 1 else None
    slow = np.diff(grid, axis=0).reshape(-1, 2).mean(axis=0) if shape[0] > 1 else None
    seen = []
    if fast is not None:
        seen.append(f"fast step {math.hypot(*fast):.4g} Å")
        seen.append(f"rotation {math.degrees(math.atan2(fast[0], fast[1])):.3g}°")
    if slow is not None:
        seen.append(f"slow step {math.hypot(*slow):.4g} Å")
    raise ConfigError(
        f"{key} = {str(path)!r}: the positions differ from the configured raster (step_A = "
        f"{list(step_A)}, rotation_deg = {rotation_deg:g}) by up to {worst:.3g} Å; the "
        f"positions show {', '.join(seen)}"
    )
