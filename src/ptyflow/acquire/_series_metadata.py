"""The metadata of a series' store as received, before any compression: the scan from the
config or the series header, the detector from the config and the detector's own config."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np

from ptyflow.acquire._events import SeriesStart
from ptyflow.config.acquire import AcquireConfig
from ptyflow.dataset import Acquisition, Compression, DatasetMetadata, Detector, Scan
from ptyflow.errors import PtyflowError
from ptyflow.physics import center_pixel

__all__ = ["series_metadata"]


def _nav_shape(start: SeriesStart, config: AcquireConfig) -> tuple[tuple[int, int], int | None]:
    shape = config.scan.shape or start.scan_shape
    if shape is None:
        raise PtyflowError(
            f"series {start.series}: no scan shape: set scan.shape in the config or send "
            'header user data {"ptyflow": {"scan_shape": [ny, nx]}}'
        )
    n_time, n_scan = config.scan.n_time, shape[0] * shape[1]
    if n_time is None and start.n_images is not None and start.n_images != n_scan:
        if start.n_images % n_scan:
            raise PtyflowError(
                f"series {start.series}: {start.n_images} images announced, not a multiple "
                f"of the scan's {shape[0]}×{shape[1]} = {n_scan} positions"
            )
        n_time = start.n_images // n_scan
    return shape, n_time


def series_metadata(
    start: SeriesStart, config: AcquireConfig, frame_shape: tuple[int, int], dtype: np.dtype[Any]
) -> DatasetMetadata:
    """The uncompressed store's metadata of the series ``start`` opens, whose frames are
    ``frame_shape`` of ``dtype``."""
    shape, n_time = _nav_shape(start, config)
    det_cfg = start.config or {}
    cy, cx = center_pixel(frame_shape)
    detector = Detector(
        shape=frame_shape,
        pixel_size_inv_A=config.detector.pixel_size_inv_A,
        center_px=config.detector.center_px or (float(cy), float(cx)),
        bit_depth=int(det_cfg.get("bit_depth_image") or dtype.itemsize * 8),
        name=str(det_cfg.get("description") or config.detector.name),
        serial=str(det_cfg["detector_number"]) if det_cfg.get("detector_number") else None,
    )
    scan = Scan(
        shape=shape,
        step_A=config.scan.step_A,
        rotation_deg=config.scan.rotation_deg,
        n_time=n_time,
        time_step_s=config.scan.time_step_s if n_time else None,
    )
    return DatasetMetadata(
        acquisition=Acquisition(
            beam=config.beam,
            scan=scan,
            detector=detector,
            source=f"ptyflow acquire: DECTRIS stream {start.protocol} series {start.series} "
            f"from {config.receive.endpoint}",
            started_utc=datetime.now(UTC),
        ),
        compression=Compression(kind="none"),
    )
