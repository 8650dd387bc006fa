"""The writer thread's view of the stream: which series is open, where each event goes.

A series store is opened at its first frame (so the detector config, which some senders
send as a separate message, and the frame shape are known) and closed at its end message,
at the next series start (then ``incomplete``: the detector stopped mid-series), after
``series_timeout_s`` of silence, or when the daemon stops. Frames of any other series are
counted as foreign and dropped. Bad messages are counted by reason and logged rate-limited.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import replace
from typing import Any

from ptyflow.acquire._cpu import StageCPU
from ptyflow.acquire._events import (
    BadMessage,
    DetectorConfig,
    FrameBlock,
    SeriesEnd,
    SeriesStart,
)
from ptyflow.acquire._series import SeriesRecorder
from ptyflow.acquire._stream_v1 import n_images_of
from ptyflow.config.acquire import AcquireConfig

__all__ = ["Event", "RateLimitedLog", "SeriesManager"]

log = logging.getLogger("ptyflow.acquire")
Event = SeriesStart | DetectorConfig | FrameBlock | SeriesEnd | BadMessage


class RateLimitedLog:
    """Logs the first problem of each reason at once, then at most one line per interval."""

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._last: dict[str, float] = {}
        self._suppressed: Counter[str] = Counter()

    def warn(self, reason: str, message: str) -> None:
        now = time.monotonic()
        if now - self._last.get(reason, -float("inf")) < self.interval_s:
            self._suppressed[reason] += 1
            return
        more = self._suppressed.pop(reason, 0)
        self._last[reason] = now
        log.warning("%s%s", message, f" (and {more} more '{reason}' since)" if more else "")


class SeriesManager:
    """Routes decoded events to the open series; one thread (the writer) owns it."""

    def __init__(self, config: AcquireConfig) -> None:
        self.config = config
        self.pending: SeriesStart | None = None  # started, no frame yet
        self.current: SeriesRecorder | None = None
        self.closed: list[dict[str, Any]] = []  # summaries of finished series
        #: Problems outside any open series (foreign frames, bad headers), by reason.
        self.stray: Counter[str] = Counter()
        self.frames_received = 0
        self.fatal: BaseException | None = None
        self.rejected: int | None = None  # a series whose store could not be opened
        self.cpu = StageCPU()
        #: The open series' compressor, by series id, for the decode workers to use.
        self.compressors: dict[int, Any] = {}
        self.last_event_s = time.monotonic()
        self._warn = RateLimitedLog(config.status.log_interval_s)

    def handle(self, events: list[Event]) -> None:
        """Apply ``events`` (frames come in blocks) in arrival order."""
        self.last_event_s = time.monotonic()
        for ev in events:
            if isinstance(ev, FrameBlock) and self._series_open(ev):
                assert self.current is not None
                before = self.current.counts.received
                self.current.add(ev)
                self.frames_received += self.current.counts.received - before
            else:
                self._handle_one(ev)

    def tick(self) -> None:
        """Called while the stream is quiet: close a series the detector abandoned. A series
        armed but without frames yet is kept: a detector may wait long for its trigger."""
        quiet_s = time.monotonic() - self.last_event_s
        if self.current is not None and quiet_s > self.config.receive.series_timeout_s:
            self._close(f"no message for {quiet_s:.0f} s")

    def shutdown(self, reason: str) -> None:
        self._close(reason)

    # -- internals ---------------------------------------------------------------------

    def _series_open(self, block: FrameBlock) -> bool:
        """True if ``block`` belongs to the open series (opening its store if needed)."""
        if self.current is not None:
            return block.series == self.current.start.series
        if self.pending is None or block.series != self.pending.series:
            return False
        try:
            self.current = SeriesRecorder(self.pending, block, self.config, self.cpu)
        except Exception as err:  # no scan shape, unwritable directory: skip this series
            log.error("series %d: cannot open a store: %s", block.series, err)
            self.closed.append({"series": block.series, "store": None, "error": str(err)})
            self.pending, self.rejected = None, block.series
            return False
        self.pending = None
        self.compressors[block.series] = self.current.compressor
        return True

    def _handle_one(self, ev: Event) -> None:
        if isinstance(ev, SeriesStart):
            if self.current or self.pending:
                self._close(f"series {ev.series} started before the end of this one")
            self.pending, self.rejected = ev, None
        elif isinstance(ev, DetectorConfig):
            if self.pending is not None and self.pending.config is None:
                self.pending = replace(
                    self.pending,
                    config=ev.config,
                    n_images=self.pending.n_images or n_images_of(ev.config),
                )
            else:
                self._warn.warn("config", "a detector config arrived outside a series header")
                self.stray["config"] += 1
        elif isinstance(ev, FrameBlock) and ev.series == self.rejected:
            self.stray["unopened"] += len(ev.ids)  # its store could not be opened (logged)
        elif isinstance(ev, FrameBlock):  # not of the open series
            self.stray["foreign"] += len(ev.ids)
            self._warn.warn(
                "foreign",
                f"series {ev.series} frames {ev.ids.min()}…{ev.ids.max()}: not of the open "
                f"series ({self._open_series()}); dropped",
            )
        elif isinstance(ev, SeriesEnd):
            if ev.series in (self._open_series(), self.rejected):
                self._close("series end")
            else:
                self.stray["foreign"] += 1
                self._warn.warn("foreign", f"end of series {ev.series}, which is not open")
        else:
            self._bad(ev)

    def _bad(self, ev: BadMessage) -> None:
        self._warn.warn(ev.reason, ev.message)
        cur = self.current
        if ev.frame is not None and cur is not None and ev.series == cur.start.series:
            cur.counts.malformed[ev.reason] += 1  # that frame stays missing
        else:
            self.stray[ev.reason] += 1

    def _open_series(self) -> int | None:
        if self.current is not None:
            return self.current.start.series
        return self.pending.series if self.pending is not None else None

    def _close(self, reason: str) -> None:
        if self.pending is not None:
            log.warning(
                "series %d: %s before any frame arrived; no store", self.pending.series, reason
            )
            self.closed.append(
                {"series": self.pending.series, "store": None, "closed_because": reason}
            )
            self.pending = None
        if self.current is not None:
            cur, self.current = self.current, None
            self.compressors.pop(cur.start.series, None)
            summary = cur.close(reason)
            self.closed.append(summary)
            c = summary["counts"]
            log.info(
                "series %d: %s: %d/%d frames, %d missing → %s",
                cur.start.series,
                reason,
                c["received"],
                c["expected"],
                c["missing"],
                cur.path,
            )
