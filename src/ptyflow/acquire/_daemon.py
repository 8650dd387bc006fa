"""``run_daemon``: the acquire daemon's lifecycle (signals, status, progress, summaries).

SIGTERM and SIGINT set the stop flag: the receiver stops, the messages already received
are decoded and written, and the open store is closed (``incomplete``) with its record.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from ptyflow.acquire._manager import SeriesManager
from ptyflow.acquire._pipeline import Pipeline
from ptyflow.acquire._status import STATUS_FILE, StatusServer, metrics
from ptyflow.config.acquire import AcquireConfig
from ptyflow.errors import ConfigError

__all__ = ["run_daemon"]

log = logging.getLogger("ptyflow.acquire")


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM/SIGINT set ``stop`` (only possible from the main thread; else a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        log.info("%s: finishing the open store and stopping", signal.Signals(signum).name)
        stop.set()

    old = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


class _Rate:
    """Frames per second over the last few seconds, for the status and the progress line."""

    def __init__(self) -> None:
        self._last = (time.monotonic(), 0)
        self.hz = 0.0

    def update(self, frames: int) -> float:
        now = time.monotonic()
        t0, n0 = self._last
        if now - t0 >= 1.0:
            self.hz, self._last = (frames - n0) / (now - t0), (now, frames)
        return self.hz


def run_daemon(config: AcquireConfig, stop: threading.Event | None = None) -> list[dict[str, Any]]:
    """Receive series until ``stop`` is set (or SIGTERM/SIGINT); return each series' summary."""
    stop = stop or threading.Event()
    # The decode workers are CPU-bound Python; a short switch interval lets the writer's
    # and zarr's I/O threads get the GIL back quickly (the default 5 ms convoys them).
    sys.setswitchinterval(0.0005)
    try:
        config.output.directory.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ConfigError(f"[output].directory {config.output.directory}: {err}") from None
    manager = SeriesManager(config)
    pipeline = Pipeline(config.receive, manager)
    started_s, rate = time.monotonic(), _Rate()

    def snapshot() -> dict[str, Any]:
        return metrics(manager, pipeline.queue_depth, rate.hz, started_s)

    server = None
    if config.status.enabled:
        try:
            server = StatusServer(config.status.host, config.status.port, snapshot, manager)
        except OSError as err:
            raise ConfigError(
                f"[status] {config.status.host}:{config.status.port}: cannot serve there ({err})"
            ) from None
        server.start(config.output.directory / STATUS_FILE)
        log.info("status: %s/metrics and %s/live.png", server.url, server.url)
    interactive = config.status.progress == "on" or (
        config.status.progress == "auto" and sys.stderr.isatty()
    )

    last_line = [0.0]

    def on_progress() -> None:  # from the receive loop: per batch, and while quiet
        hz = rate.update(manager.frames_received)
        if interactive and time.monotonic() - last_line[0] >= 0.5:
            last_line[0] = time.monotonic()
            cur = manager.current
            where = (
                f"series {cur.start.series}: {cur.counts.received}/{cur.counts.expected}"
                if cur
                else "waiting"
            )
            sys.stderr.write(
                f"\racquire {where} | {manager.frames_received} frames | {hz:,.0f} frames/s   "
            )
            sys.stderr.flush()

    from ptyflow.compress import warm_up_all

    try:
        # compile (or load from Numba's cache) every kernel now, not while frame 1 waits
        log.info("acquire: compression kernels ready in %.1f s", warm_up_all())
        log.info("acquire: connecting to %s (%s)", config.receive.endpoint, config.receive.protocol)
        with _stop_on_signals(stop):
            pipeline.run(stop, on_progress)
    finally:
        if server is not None:
            server.stop()
            (config.output.directory / STATUS_FILE).unlink(missing_ok=True)
        if interactive:
            sys.stderr.write("\n")
    return manager.closed
