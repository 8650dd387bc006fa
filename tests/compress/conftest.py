"""Shared pieces of the compression tests: a detector big enough for 2α presets, frames."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from ptyflow.compress import Compressor
from ptyflow.config import validate_config
from ptyflow.config.compress import CompressConfig
from ptyflow.dataset import DatasetMetadata
from ptyflow.testing import make_metadata

#: 48×48 pixels of 0.1 1/Å at 300 keV, α = 20 mrad: the BF disk is ~10 px in radius and
#: the detector reaches ~23 px (~47 mrad) in every direction.
DET = (48, 48)


def raw_metadata(bit_depth: int = 12, scan: tuple[int, int] = (8, 8)) -> DatasetMetadata:
    return make_metadata(scan, DET, bit_depth=bit_depth)


def disk_frames(n: int, dtype: Any, seed: int = 0, peak: float = 3.0) -> np.ndarray:
    """Poisson counts on a bright-field disk plus a weak tail, cast to ``dtype``."""
    rng = np.random.default_rng(seed)
    y, x = np.indices(DET) - 24.0
    rate = np.where(np.hypot(y, x) <= 10, peak, 0.05)
    return rng.poisson(rate, (n, *DET)).astype(dtype)


def compressor(config: dict[str, Any], dtype: Any = np.uint16, **md: Any) -> Compressor:
    comp = Compressor(validate_config(config, CompressConfig), raw_metadata(**md), dtype)
    comp.warmup()
    return comp


def run(comp: Compressor, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    out, live = comp.empty_outputs(len(frames))
    comp.compress(frames, out, live)
    return out, live


@pytest.fixture
def counter_max() -> np.ndarray:
    """Frames with every pixel at a 12-bit counter's maximum, then a few at random."""
    frames = np.full((3, *DET), 4095, np.uint16)
    frames[1] = disk_frames(1, np.uint16)[0]
    return frames
