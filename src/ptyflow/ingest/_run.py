"""``run_import``: a 4D array from a file, plus the config's metadata, into a dataset store.

Two passes over the file, a band of scan rows at a time (never the whole array in RAM):
the first checks every frame (NaN, negative or fractional counts) and decides the stored
dtype, the second writes. Dtype ``auto``: counts that are all integral and non-negative
(Poisson data, even when a simulator saved them as float32) are stored exactly as unsigned
integers, uint16 when they fit the detector's bit depth of at most 16 bits, else uint32;
anything else (expected counts, gain-corrected or background-subtracted data) as float32.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ptyflow._progress import count_progress
from ptyflow.config.import_ import ImportConfig
from ptyflow.dataset import (
    Acquisition,
    Compression,
    DatasetMetadata,
    Detector,
    Scan,
    check_truth_dir,
    create_dataset,
    truth_path,
)
from ptyflow.errors import ConfigError, DatasetError
from ptyflow.ingest._checks import check_positions, frames_received
from ptyflow.ingest._source import Source
from ptyflow.ingest._truth import import_truth, load_truth
from ptyflow.physics import center_pixel
from ptyflow.provenance import ArtifactRef, artifact_ref, start_record

__all__ = ["ImportResult", "run_import"]

_BAND_BYTES = 64 << 20  # rows read at once: about this many bytes (and at most 16 rows)


@dataclass(frozen=True)
class ImportResult:
    """What :func:`run_import` made: the store, its ground truth (or None), the stored dtype,
    the number of frames left out as missing, and the wall time [s]."""

    store: Path
    truth: Path | None
    dtype: np.dtype[Any]
    n_missing: int
    seconds: float


@dataclass
class _Stats:
    """What the first pass learns about the received frames."""

    integral: bool = True
    minimum: float = np.inf
    maximum: float = -np.inf


def _detector(config: ImportConfig, frame_shape: tuple[int, int], bits: int) -> Detector:
    """The raw detector the frames came from: calibration scaled back by the binning."""
    det, b = config.detector, config.detector.bin_factor
    raw_default = center_pixel((frame_shape[0] * b, frame_shape[1] * b))
    # a binned pixel's centre is the mean of its raw pixels' centres: c_raw = (c + ½)·b − ½
    frame_center = det.center_px or tuple((c + 0.5) / b - 0.5 for c in raw_default)
    for axis, c, n in zip(("cy", "cx"), frame_center, frame_shape, strict=True):
        if not 0.0 <= c <= n - 1:
            raise ConfigError(
                f"[detector].center_px {axis} = {c:g} lies outside the {n}-pixel frames of "
                "the source (pixels of the frames as stored, binned ones included)"
            )
    return Detector(
        shape=(frame_shape[0] * b, frame_shape[1] * b),
        pixel_size_inv_A=config.frame_pixel_size_inv_A / b,
        center_px=((frame_center[0] + 0.5) * b - 0.5, (frame_center[1] + 0.5) * b - 0.5),
        bit_depth=bits,
        name=det.name,
        serial=det.serial,
    )


def _bands(n_rows: int, row_bytes: int) -> list[tuple[int, int]]:
    rows = max(1, min(16, _BAND_BYTES // max(row_bytes, 1)))
    return [(r, min(r + rows, n_rows)) for r in range(0, n_rows, rows)]


def _first_pass(
    source: Source, received: NDArray[np.bool_], config: ImportConfig, advance: Any
) -> _Stats:
    """Check every frame; all-NaN frames become missing if the config says so."""
    stats = _Stats()
    row_bytes = source.scan_shape[1] * int(np.prod(source.frame_shape)) * 8
    for start, stop in _bands(source.n_rows, row_bytes):
        block = source.read_rows(start, stop).astype(np.float64, copy=False)
        finite = np.isfinite(block).reshape(*block.shape[:2], -1)
        all_nan: NDArray[np.bool_] = np.logical_not(finite.any(axis=-1))
        if config.source.nan_frames == "missing":
            received[start:stop] &= ~all_nan
        bad = received[start:stop] & ~finite.all(axis=-1)
        if bad.any():
            iy, ix = np.argwhere(bad)[0]
            what = "is all NaN" if all_nan[iy, ix] else "contains NaN or infinity"
            hint = (
                ' (set [source].nan_frames = "missing" if all-NaN frames mark missing ones)'
                if all_nan[iy, ix]
                else ""
            )
            raise DatasetError(
                f"{source.path}: frame (scan_y, scan_x) = ({start + iy}, {ix}) {what}{hint}"
            )
        frames = block[received[start:stop]]
        if frames.size:
            stats.integral &= bool(np.all(frames == np.round(frames)))
            stats.minimum = min(stats.minimum, float(frames.min()))
            stats.maximum = max(stats.maximum, float(frames.max()))
        advance(int(received[start:stop].sum()))
    return stats


def _choose_dtype(config: ImportConfig, stats: _Stats, path: Path) -> tuple[np.dtype[Any], int]:
    """The stored dtype and the detector bit depth (module docstring: the rule)."""
    counts = stats.integral and stats.minimum >= 0 and stats.maximum < 2**32
    bits = config.detector.bit_depth
    if bits is None:
        bits = 16 if counts and stats.maximum < 2**16 else 32
    wanted = config.source.dtype
    if wanted == "auto":
        wanted = ("uint16" if bits <= 16 else "uint32") if counts else "float32"
    dtype = np.dtype(wanted)
    if dtype.kind == "u":
        if not counts:
            why = (
                "are not all integral"
                if not stats.integral
                else f"range {stats.minimum:g} … {stats.maximum:g}"
            )
            raise DatasetError(
                f"{path}: [source].dtype = {wanted!r} needs non-negative integral counts, but "
                f'the frames {why}; use "float32" (or "auto")'
            )
        if stats.maximum >= 2 ** min(bits, dtype.itemsize * 8):
            raise DatasetError(
                f"{path}: counts up to {stats.maximum:g} do not fit {wanted} with "
                f"[detector].bit_depth = {bits}"
            )
    return dtype, bits


def run_import(
    config: ImportConfig,
    data_path: str | Path,
    out_path: str | Path,
    *,
    overwrite: bool = False,
    progress: bool = True,
) -> ImportResult:
    """Import the frames in ``data_path`` into a new store at ``out_path`` (and the ground
    truth of ``config.truth`` into ``<stem>.truth/``). Both carry provenance records that
    name their input files by content hash."""
    t0 = time.perf_counter()
    data_path, out_path = Path(data_path), Path(out_path)
    truth_dir = truth_path(out_path) if config.truth else None
    if truth_dir is not None:
        check_truth_dir(truth_dir, overwrite)
    truth_arrays = load_truth(config) if config.truth else None
    scan = config.scan
    if scan.positions_path is not None:
        check_positions(scan.positions_path, scan.shape, scan.step_A, scan.rotation_deg)
    received = frames_received(config.source.frames_received_path, scan.shape)
    bar = count_progress("{task.description}", enabled=progress)
    with Source(data_path, config.source.dataset, config.source.axes, scan.shape) as source, bar:
        task = bar.add_task("check", total=int(received.sum()))
        stats = _first_pass(source, received, config, lambda n: bar.advance(task, n))
        dtype, bits = _choose_dtype(config, stats, data_path)
        inputs = [
            artifact_ref(p)
            for p in (data_path, config.source.frames_received_path, scan.positions_path)
            if p is not None
        ]
        record = start_record("import", config=config, inputs=inputs)
        where = data_path.name + (f":{source.dataset}" if source.dataset else "")
        started = config.acquisition.started_utc or datetime.fromtimestamp(
            data_path.stat().st_mtime, UTC
        )
        b = config.detector.bin_factor
        metadata = DatasetMetadata(
            acquisition=Acquisition(
                beam=config.beam,
                scan=Scan(shape=scan.shape, step_A=scan.step_A, rotation_deg=scan.rotation_deg),
                detector=_detector(config, source.frame_shape, bits),
                source=config.acquisition.source or f"ptyflow import: {where}",
                started_utc=started,
            ),
            compression=Compression(kind="bin", bin_factor=b) if b > 1 else Compression(),
        )
        writer = create_dataset(out_path, metadata, dtype=dtype, overwrite=overwrite, record=record)
        write = bar.add_task("write", total=int(received.sum()))
        nx = scan.shape[1]
        row_bytes = nx * int(np.prod(source.frame_shape)) * source.dtype.itemsize
        with writer:
            for start, stop in _bands(source.n_rows, row_bytes):
                block = source.read_rows(start, stop)
                for iy in range(start, stop):
                    row = block[iy - start]
                    for run in _runs(received[iy]):
                        writer.write_frames(iy * nx + run.start, _as(row[run], dtype))
                bar.advance(write, int(received[start:stop].sum()))
    assert writer.content_hash is not None  # set when the with block closed the store
    truth = None
    if truth_arrays is not None and truth_dir is not None:
        store_ref = ArtifactRef(
            path=str(out_path.resolve()),
            content_hash=writer.content_hash,
            record_id=record.record_id,
        )
        if truth_dir.exists():  # vetted above; it described the store just replaced
            shutil.rmtree(truth_dir)
        truth = import_truth(config, truth_arrays, truth_dir, store_ref)
    n_missing = int(received.size - received.sum())
    return ImportResult(out_path, truth, dtype, n_missing, time.perf_counter() - t0)


def _runs(row: NDArray[np.bool_]) -> list[slice]:
    """Slices of consecutive True entries of ``row``."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], row.astype(np.int8), [0]])))
    return [slice(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _as(frames: NDArray[Any], dtype: np.dtype[Any]) -> NDArray[Any]:
    # Integral values were checked in the first pass, so the cast to integers is exact.
    return np.ascontiguousarray(frames, dtype=dtype)
