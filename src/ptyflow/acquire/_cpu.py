"""CPU seconds spent per pipeline stage, summed over the threads that run it.

Each thread measures its own CPU time (``time.thread_time``) around its work and adds it
here once per batch, so the bookkeeping costs nothing per frame.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["STAGES", "StageCPU"]

STAGES = ("receive", "decode", "compress", "write")


class StageCPU:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seconds = dict.fromkeys(STAGES, 0.0)

    def add(self, stage: str, seconds: float) -> None:
        with self._lock:
            self._seconds[stage] += seconds

    @contextmanager
    def measure(self, stage: str) -> Iterator[None]:
        t0 = time.thread_time()
        try:
            yield
        finally:
            self.add(stage, time.thread_time() - t0)

    def snapshot(self) -> dict[str, float]:
        with self._lock:
            return dict(self._seconds)
