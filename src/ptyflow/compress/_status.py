"""Are the kernels compiled, and did they come from Numba's on-disk cache?

``ptyflow info --kernels`` warms the kernels up for the common frame types and reports,
per kernel, how many type signatures are ready, how many were loaded from the cache and
how many had to be compiled now, so a slow first acquisition can be ruled out beforehand.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from ptyflow.compress._compressor import Compressor
from ptyflow.compress._kernels import KERNELS
from ptyflow.config import validate_config
from ptyflow.config.compress import CompressConfig
from ptyflow.dataset import Acquisition, DatasetMetadata, Detector, Scan
from ptyflow.physics import Probe

__all__ = ["KernelStatus", "kernel_status", "warm_up_all"]

#: Frame types warmed up: (dtype, detector bit depth).
_FRAME_TYPES = (
    (np.uint8, 8),
    (np.uint16, 12),
    (np.uint16, 16),
    (np.uint32, 32),
    (np.float32, 32),
)
_CONFIGS = (
    {"kind": "none"},
    {"kind": "bin"},
    {"kind": "virtual"},
    {"kind": "virtual", "virtual": {"path": "dense"}},
)


@dataclass(frozen=True)
class KernelStatus:
    """One kernel: signatures ready, loaded from the disk cache, compiled in this process."""

    name: str
    signatures: int
    cache_hits: int
    compiled: int
    cache_dir: str


def _metadata(bit_depth: int) -> DatasetMetadata:
    return DatasetMetadata(
        acquisition=Acquisition(
            beam=Probe(energy_eV=300e3, semiangle_mrad=20.0),
            scan=Scan(shape=(1, 1), step_A=(1.0, 1.0)),
            detector=Detector(
                shape=(96, 96),
                pixel_size_inv_A=0.06,
                center_px=(48.0, 48.0),
                bit_depth=bit_depth,
                name="warm-up",
            ),
            source="warm-up",
            started_utc=datetime.now(UTC),
        )
    )


def warm_up_all() -> float:
    """Compile or load every kernel for the common frame types; the seconds it took."""
    t0 = time.perf_counter()
    for dtype, bits in _FRAME_TYPES:
        md = _metadata(bits)
        for config in _CONFIGS:
            Compressor(validate_config(config, CompressConfig), md, dtype).warmup()
        frames = np.zeros((1, 4, 4), dtype)
        axis = np.zeros(4)
        zero = np.float64(0) if np.dtype(dtype).kind == "f" else np.int64(0)
        KERNELS["moments"](frames, axis, axis, zero, np.empty((1, 3)))
    return time.perf_counter() - t0


def kernel_status() -> list[KernelStatus]:
    """What this process has of each kernel (call :func:`warm_up_all` first)."""
    status = []
    for name, kernel in KERNELS.items():
        stats = kernel.stats
        status.append(
            KernelStatus(
                name=name,
                signatures=len(kernel.signatures),
                cache_hits=sum(stats.cache_hits.values()),
                compiled=sum(stats.cache_misses.values()),
                cache_dir=str(stats.cache_path),
            )
        )
    return status
