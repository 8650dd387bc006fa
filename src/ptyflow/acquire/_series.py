"""One series → one store: frame id → scan position, gaps, duplicates, out-of-order frames.

Frame ids count from 0 through the series. With a scan of ``ny × nx`` positions and
``n_time`` scans (an in-situ series), frame ``f`` lands at ``t = f // (ny·nx)`` and raster
position ``f % (ny·nx)``, which is the flat index of ``(t, y, x)`` in the store. Only frames
that arrived and decoded are written, so only they are marked in ``frames_received``.
"""

from __future__ import annotations

import logging
import resource
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ptyflow.acquire._cpu import StageCPU
from ptyflow.acquire._events import FrameBlock, SeriesStart
from ptyflow.acquire._series_metadata import series_metadata
from ptyflow.acquire._store_layout import store_layout
from ptyflow.compress import LIVE_SUMS, Compressor
from ptyflow.config.acquire import AcquireConfig
from ptyflow.dataset import (
    DatasetWriter,
    create_dataset,
    default_codec,
)
from ptyflow.provenance import start_record

__all__ = ["SeriesCounts", "SeriesRecorder", "store_path"]

log = logging.getLogger("ptyflow.acquire")


def _bytes_per_frame(compressor: Compressor) -> int:
    return int(np.prod(compressor.out_shape)) * compressor.out_dtype.itemsize


@dataclass
class SeriesCounts:
    """What happened to the frames of one series (all counts are frames)."""

    received: int = 0  # arrived, decoded and written
    duplicate: int = 0  # a frame id that had already arrived (the first copy is kept)
    out_of_order: int = 0  # arrived after a later frame id (still written)
    out_of_range: int = 0  # a frame id beyond the scan
    unwritten: int = 0  # arrived after the store failed
    malformed: Counter[str] = field(default_factory=Counter)  # by reason
    expected: int = 0

    @property
    def missing(self) -> int:
        return self.expected - self.received

    def as_dict(self) -> dict[str, Any]:
        return {
            "expected": self.expected,
            "received": self.received,
            "missing": self.missing,
            "duplicate": self.duplicate,
            "out_of_order": self.out_of_order,
            "out_of_range": self.out_of_range,
            "unwritten": self.unwritten,
            "malformed": dict(self.malformed),
        }


def store_path(directory: Path, prefix: str, series: int) -> Path:
    """A new store path for ``series``; an existing store is never reused or replaced."""
    path = directory / f"{prefix}-{series:06d}.zarr"
    k = 2
    while path.exists():
        path = directory / f"{prefix}-{series:06d}-{k}.zarr"
        k += 1
    return path


class SeriesRecorder:
    """Writes the frames of one series into a new store; owned by the writer thread."""

    def __init__(
        self, start: SeriesStart, first: FrameBlock, config: AcquireConfig, cpu: StageCPU
    ) -> None:
        self.start = start
        self.config = config
        self._cpu, self._cpu_at_start = cpu, cpu.snapshot()
        self.counts = SeriesCounts()
        self.frame_shape: tuple[int, int] = first.data.shape[1:]  # raw: no compressor yet
        self.dtype = first.data.dtype
        raw = series_metadata(start, config, self.frame_shape, self.dtype)
        #: Built, checked against the detector and compiled before the store exists.
        self.compressor = Compressor(config.compress, raw, self.dtype)
        self.compressor.warmup()
        metadata = self.compressor.metadata
        self.nav_shape = metadata.nav_shape
        self.counts.expected = int(np.prod(self.nav_shape))
        self.seen = np.zeros(self.counts.expected, dtype=bool)
        self.max_seen = -1
        #: Bright-field signal per frame (NaN where missing): the status page's live image.
        self.live_bf = np.full(self.counts.expected, np.nan, dtype=np.float32)
        self.path = store_path(config.output.directory, config.output.prefix, start.series)
        self.writer: DatasetWriter | None = None
        # Written into the store at creation too: after a crash, `recover` keeps it.
        self.record = start_record("acquire", config=self._record_config({}))
        if config.output.write:
            shard_nav, chunk_nav = store_layout(config, _bytes_per_frame(self.compressor))
            self.writer = create_dataset(
                self.path,
                metadata,
                dtype=self.compressor.out_dtype,
                shard_nav=shard_nav,
                chunk_nav=chunk_nav,
                codec=default_codec(config.output.codec),
                masks=self.compressor.masks,
                record=self.record,
            )
        self.error: str | None = None
        self.started_s = time.perf_counter()  # compiled and created: frames flow from here
        self._process_cpu_s = time.process_time()  # every thread of the daemon
        where = self.path if self.writer is not None else "nowhere (output.write = false)"
        log.info("series %d → %s (scan %s)", start.series, where, self.nav_shape)

    def add(self, block: FrameBlock) -> None:
        """Place a block of this series' frames in the scan and write its contiguous runs."""
        c = self.counts
        if block.compressor is not self.compressor:  # decoded before the store existed
            if block.data.shape[1:] != self.frame_shape or block.data.dtype != self.dtype:
                c.malformed["shape"] += len(block.ids)
                return
            out, live = self.compressor.empty_outputs(len(block.ids))
            self.compressor.compress(block.data, out, live)
            block = FrameBlock(block.series, block.ids, out, live, self.compressor)
        ids = block.ids
        n = len(ids)
        first = int(ids[0]) if n else 0
        if (
            n
            and first >= 0
            and first + n <= c.expected
            and int(ids[-1]) == first + n - 1
            and (n == 1 or bool((np.diff(ids) == 1).all()))
            and not self.seen[first : first + n].any()
        ):  # the usual block: one run of new frames, written as it came (no copies)
            c.out_of_order += min(n, max(0, self.max_seen - first))  # ids below the max
            self.max_seen = max(self.max_seen, first + n - 1)
            self.seen[first : first + n] = True
            self._write(first, block.data, block.live)  # type: ignore[arg-type]
            return
        keep = (ids >= 0) & (ids < c.expected)
        c.out_of_range += int((~keep).sum())
        # the first copy of each id wins: earlier in this block, or in an earlier block
        _, first_copy = np.unique(ids, return_index=True)
        unique = np.zeros(n, dtype=bool)
        unique[first_copy] = True
        fresh = keep & unique & ~self.seen[np.where(keep, ids, 0)]
        c.duplicate += int((keep & ~fresh).sum())
        ids = ids[fresh]
        if not len(ids):
            return
        running_max = np.maximum.accumulate(np.concatenate([[self.max_seen], ids]))[:-1]
        c.out_of_order += int((ids < running_max).sum())
        self.max_seen = max(self.max_seen, int(ids.max()))
        self.seen[ids] = True
        data, live = block.data[fresh], block.live[fresh]  # type: ignore[index]
        order = np.argsort(ids, kind="stable")
        ids, data, live = ids[order], data[order], live[order]
        breaks = np.flatnonzero(np.diff(ids) != 1) + 1
        for a, b in zip([0, *breaks], [*breaks, len(ids)], strict=True):
            self._write(int(ids[a]), data[a:b], live[a:b])

    def _write(self, start: int, data: NDArray[Any], live: NDArray[np.float64]) -> None:
        if self.writer is None and self.config.output.write:  # the store failed earlier
            self.counts.unwritten += len(data)
            return
        try:
            if self.writer is not None:  # None here: a dry run (output.write = false)
                self.writer.write_frames(start, data, live=live)
        except Exception as err:  # disk full, unwritable: fail this series, keep the daemon
            self._fail(err)
            self.counts.unwritten += len(data)
            return
        self.counts.received += len(data)
        self.live_bf[start : start + len(data)] = live[:, LIVE_SUMS.index("bf")]

    def _fail(self, err: BaseException) -> None:
        self.error = f"{self.path}: writing failed: {err}"
        log.error("series %d failed: %s", self.start.series, self.error)
        writer, self.writer = self.writer, None
        if writer is not None:
            try:
                writer.__exit__(type(err), err, None)  # marks the store 'failed', keeps frames
            except Exception as close_err:
                log.error(
                    "series %d: could not close the failed store: %s", self.start.series, close_err
                )

    def _record_config(self, outcome: dict[str, Any]) -> dict[str, Any]:
        return {
            "daemon": self.config.model_dump(mode="json"),
            "detector_header": self.start.header,
            "detector_config": self.start.config,
            "series": self.start.series,
            **outcome,
        }

    def close(self, reason: str) -> dict[str, Any]:
        """Finish the store (``complete``/``incomplete``) with its provenance record.

        Timing: ``seconds`` from the first frame to the last frame handed to the writer;
        ``cpu_s_by_stage`` the daemon's CPU time per stage meanwhile (all threads); the
        sealing time is in the store's own record times (``ended_utc``). The summary (not
        the record, written before) adds ``process_cpu_s``: the whole daemon's CPU time
        until the store was sealed, ZeroMQ's I/O thread and the shard threads included.
        """
        seconds = time.perf_counter() - self.started_s
        cpu = self._cpu.snapshot()
        timing: dict[str, Any] = {
            "seconds": seconds,
            "frames_per_s": self.counts.received / seconds if seconds > 0 else None,
            "cpu_s_by_stage": {k: cpu[k] - self._cpu_at_start[k] for k in cpu},
            "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        }
        summary: dict[str, Any] = {
            "series": self.start.series,
            "store": str(self.path) if self.config.output.write else None,
            "closed_because": reason,
            "counts": self.counts.as_dict(),
            "timing": timing,
        }
        record = self.record.model_copy(
            update={
                "config": self._record_config({k: v for k, v in summary.items() if k != "store"})
            }
        )
        if self.writer is not None:
            writer, self.writer = self.writer, None
            try:
                writer.close(record)
            except Exception as err:
                self.error = f"{self.path}: closing failed: {err}"
                log.error("series %d: %s", self.start.series, self.error)
        summary["timing"] = {**timing, "process_cpu_s": time.process_time() - self._process_cpu_s}
        summary["error"] = self.error
        return summary
