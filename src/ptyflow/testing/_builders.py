"""Small, valid metadata, synthetic frames and stores for tests and benchmarks."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ptyflow.dataset import (
    Acquisition,
    Compression,
    DatasetMetadata,
    Detector,
    Scan,
    create_dataset,
)
from ptyflow.physics import Aberrations, Probe

__all__ = ["make_metadata", "poisson_frames", "write_store"]


def make_metadata(
    scan_shape: tuple[int, int] = (8, 8),
    det_shape: tuple[int, int] = (16, 16),
    n_time: int | None = None,
    compression: Compression | None = None,
    *,
    step_A: tuple[float, float] = (0.5, 0.4),
    pixel_size_inv_A: float = 0.1,
    bit_depth: int = 12,
    source: str = "pytest",
) -> DatasetMetadata:
    """Valid metadata for a small 300 keV, 20 mrad scan (k = 0 at the n//2 pixel)."""
    return DatasetMetadata(
        acquisition=Acquisition(
            beam=Probe(energy_eV=300e3, semiangle_mrad=20.0, aberrations=Aberrations(C10_A=-50.0)),
            scan=Scan(shape=scan_shape, step_A=step_A, n_time=n_time),
            detector=Detector(
                shape=det_shape,
                pixel_size_inv_A=pixel_size_inv_A,
                center_px=(det_shape[0] // 2, det_shape[1] // 2),
                bit_depth=bit_depth,
                name="testdet",
                serial="SN-1",
            ),
            source=source,
            started_utc=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
        ),
        compression=compression or Compression(),
    )


def poisson_frames(
    nav_shape: tuple[int, ...], frame_shape: tuple[int, ...], seed: int = 0
) -> np.ndarray[Any, np.dtype[np.uint16]]:
    """Sparse counts ``(n_frames, *frame_shape)``, distinct for every frame."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(nav_shape))
    return rng.poisson(0.3, size=(n, *frame_shape)).astype(np.uint16)


def write_store(
    path: Path,
    md: DatasetMetadata,
    frames: np.ndarray[Any, Any],
    skip: Collection[int] = (),
    **create_kw: Any,
) -> Path:
    """Write ``frames`` in raster order, leaving out flat indices ``skip``; return ``path``.

    ``create_kw`` go to :func:`ptyflow.dataset.create_dataset` (overwrite, shard_nav, ...).
    """
    with create_dataset(path, md, dtype=frames.dtype, **create_kw) as writer:
        for i, frame in enumerate(frames):
            if i not in skip:
                writer.write_frame(i, frame)
    return path
