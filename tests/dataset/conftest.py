"""Shared builders for dataset-store tests: metadata, synthetic diffraction frames, stores."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ptyflow.dataset import (
    Acquisition,
    Compression,
    DatasetMetadata,
    Detector,
    Scan,
    create_dataset,
)
from ptyflow.physics import Aberrations, Probe


def _metadata(
    scan_shape: tuple[int, int] = (8, 8),
    det_shape: tuple[int, int] = (16, 16),
    n_time: int | None = None,
    compression: Compression | None = None,
) -> DatasetMetadata:
    """Valid metadata for a small 300 keV, 20 mrad scan (k = 0 at the n//2 pixel)."""
    return DatasetMetadata(
        acquisition=Acquisition(
            beam=Probe(energy_eV=300e3, semiangle_mrad=20.0, aberrations=Aberrations(C10_A=-50.0)),
            scan=Scan(shape=scan_shape, step_A=(0.5, 0.4), n_time=n_time),
            detector=Detector(
                shape=det_shape,
                pixel_size_inv_A=0.1,
                center_px=(det_shape[0] // 2, det_shape[1] // 2),
                bit_depth=12,
                name="testdet",
                serial="SN-1",
            ),
            source="pytest",
            started_utc=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
        ),
        compression=compression or Compression(),
    )


def _poisson_frames(
    nav_shape: tuple[int, ...], frame_shape: tuple[int, ...], seed: int = 0
) -> np.ndarray[Any, np.dtype[np.uint16]]:
    """Sparse counts ``(n_frames, *frame_shape)``, distinct for every frame."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(nav_shape))
    return rng.poisson(0.3, size=(n, *frame_shape)).astype(np.uint16)


def _write_store(
    path: Path,
    md: DatasetMetadata,
    frames: np.ndarray[Any, Any],
    skip: tuple[int, ...] = (),
    **kw: Any,
) -> Path:
    """Write ``frames`` in raster order, leaving out flat indices ``skip``."""
    with create_dataset(path, md, dtype=frames.dtype, **kw) as writer:
        for i, frame in enumerate(frames):
            if i not in skip:
                writer.write_frame(i, frame)
    return path


@pytest.fixture
def make_metadata() -> Callable[..., DatasetMetadata]:
    return _metadata


@pytest.fixture
def make_frames() -> Callable[..., np.ndarray[Any, np.dtype[np.uint16]]]:
    return _poisson_frames


@pytest.fixture
def write_store() -> Callable[..., Path]:
    return _write_store
