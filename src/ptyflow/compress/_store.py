"""``compress_store``: a full-frame store in, a binned or virtual-detector store out.

The input is read one shard at a time and the writer holds one band of shards, so memory
does not grow with the store. Missing frames stay missing: only received frames are
compressed and written, and ``frames_received`` of the output says the same as the input's.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ptyflow._progress import count_progress
from ptyflow.compress._center import measure_center
from ptyflow.compress._compressor import Compressor
from ptyflow.config.compress import CompressCommandConfig, CustomMasks
from ptyflow.dataset import Dataset, DatasetWriter, create_dataset, open_dataset
from ptyflow.errors import DatasetError
from ptyflow.provenance import artifact_ref, start_record

__all__ = ["CompressResult", "compress_store"]

log = logging.getLogger("ptyflow.compress")

_CENTER_FRAMES = 1024  # received frames averaged to measure the centre


@dataclass(frozen=True)
class CompressResult:
    """What :func:`compress_store` made: the store, its size over the input's, wall time [s]."""

    store: Path
    mask_path: str | None
    bytes_in: int
    bytes_out: int
    seconds: float


def _measured_center(ds: Dataset) -> tuple[float, float]:
    """The bright-field disk centre in the mean of the first received frames."""
    total, n = np.zeros(ds.frame_shape), 0
    for _, block, received in ds.iter_chunks():
        total += block[received].sum(axis=0, dtype=np.float64)
        n += int(received.sum())
        if n >= _CENTER_FRAMES:
            break
    return measure_center(total / max(n, 1))


def _write_block(
    writer: DatasetWriter,
    nav: tuple[slice, ...],
    received: NDArray[np.bool_],
    out: NDArray[Any],
    live: NDArray[np.float64],
) -> None:
    """Write the compressed received frames of one shard, in runs of consecutive indices."""
    local = np.nonzero(received)
    index = tuple(i + s.start for i, s in zip(local, nav, strict=True))
    flat = np.ravel_multi_index(index, writer.nav_shape)
    breaks = np.flatnonzero(np.diff(flat) != 1) + 1
    for a, b in zip(np.r_[0, breaks], np.r_[breaks, len(flat)], strict=True):
        writer.write_frames(int(flat[a]), out[a:b], live=live[a:b])


def _data_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in (path / "data").rglob("*") if f.is_file())


def compress_store(
    source: str | Path,
    out_path: str | Path,
    config: CompressCommandConfig,
    *,
    overwrite: bool = False,
    progress: bool = True,
) -> CompressResult:
    """Compress the full-frame store ``source`` into a new store at ``out_path``.

    The new store has the same scan, chunking and missing frames, the compression of
    ``config`` (with the masks, for kind ``virtual``), live images from the compression
    pass, and a provenance record whose input is ``source`` by content hash.
    """
    t0 = time.perf_counter()
    source, out_path = Path(source), Path(out_path)
    if out_path.resolve() == source.resolve():
        raise DatasetError(f"{out_path}: is the input store; write the compressed one elsewhere")
    ds = open_dataset(source)
    cfg = config.compress
    center = _measured_center(ds) if cfg.center == "measure" else None
    comp = Compressor(cfg, ds.metadata, ds.dtype, center_px=center)
    if center is not None:
        log.info("measured centre (cy, cx) = (%.2f, %.2f) px", *center)
    comp.warmup()
    mask_files = [d.path for d in cfg.virtual.detectors if isinstance(d, CustomMasks)]
    inputs = [artifact_ref(source)] + (
        [artifact_ref(p) for p in mask_files] if cfg.kind == "virtual" else []
    )
    record = start_record("compress", config=config, inputs=inputs)
    geometry = ds.geometry
    batch = cfg.batch_frames
    bar = count_progress("compress", enabled=progress)
    writer = create_dataset(
        out_path,
        comp.metadata,
        dtype=comp.out_dtype,
        overwrite=overwrite,
        shard_nav=(geometry.shard_nav[-2], geometry.shard_nav[-1]),
        chunk_nav=(geometry.chunk_nav[-2], geometry.chunk_nav[-1]),
        masks=comp.masks,
        record=record,
    )
    with writer, bar:
        task = bar.add_task("compress", total=int(ds.frames_received.sum()))
        for nav, block, received in ds.iter_chunks():
            frames = np.ascontiguousarray(block[received])
            n = len(frames)
            out, live = comp.empty_outputs(n)  # one shard's worth
            for a in range(0, n, batch):
                comp.compress(frames[a : a + batch], out[a : a + batch], live[a : a + batch])
            _write_block(writer, nav, received, out, live)
            bar.advance(task, n)
    return CompressResult(
        store=out_path,
        mask_path=comp.path,
        bytes_in=_data_bytes(source),
        bytes_out=_data_bytes(out_path),
        seconds=time.perf_counter() - t0,
    )
