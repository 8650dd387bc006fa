"""The daemon's pipeline: receive → decode (+compress) workers → writer, overlapping.

- The receiving thread is the only owner of the ZeroMQ PULL socket. It drains up to
  ``batch_frames`` messages at a time without parsing them and hands each batch to a
  worker pool. The futures go into a bounded queue in arrival order: when the writer falls
  behind, the queue fills, the receiver blocks, ZeroMQ's receive high-water mark fills and
  the sender blocks. Nothing is dropped, and memory is bounded by
  ``max_batches_in_flight × batch_frames`` messages.
- Workers parse and decode a whole batch (the C decoder releases the GIL), stack runs of
  frames into blocks and compress them with the open series' ``Compressor`` (nogil Numba
  kernels), returning the events in order.
- The writer thread takes futures in order, so series starts, frames and ends keep the
  order they arrived in, and feeds the events to the :class:`SeriesManager`.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
import zmq

from ptyflow.acquire._cpu import StageCPU
from ptyflow.acquire._events import BadMessage, Frame, FrameBlock
from ptyflow.acquire._manager import Event, SeriesManager
from ptyflow.acquire._stream_v1 import Event as Decoded
from ptyflow.acquire._stream_v1 import decode_v1
from ptyflow.acquire._stream_v2 import decode_v2
from ptyflow.config.acquire import ReceiveConfig
from ptyflow.errors import ConfigError

__all__ = ["Pipeline", "decode_batch"]

log = logging.getLogger("ptyflow.acquire")
_POLL_MS = 50  # how often the receiver looks at the stop flag while the stream is quiet


def _decode(protocol: str, verify_hash: bool, parts: list[bytes]) -> Decoded:
    if protocol == "v1":
        return decode_v1(parts, verify_hash)
    if len(parts) != 1:
        return BadMessage("malformed", f"v2 message with {len(parts)} parts, expected 1")
    return decode_v2(parts[0])


def _block(frames: list[Frame], compressors: dict[int, Any], spent: list[float]) -> FrameBlock:
    """Stack frames of one series; compress them here if the series' compressor is ready."""
    first = frames[0]
    data = np.stack([f.data for f in frames])
    ids = np.fromiter((f.frame for f in frames), np.int64, len(frames))
    comp = compressors.get(first.series)
    if comp is None or data.shape[1:] != comp.in_shape or data.dtype != comp.in_dtype:
        return FrameBlock(first.series, ids, data)  # the writer compresses (or rejects) them
    out, live = comp.empty_outputs(len(frames))
    t0 = time.thread_time()
    comp.compress(data, out, live)  # nogil: the other worker runs meanwhile
    spent.append(time.thread_time() - t0)
    return FrameBlock(first.series, ids, out, live, comp)


def decode_batch(
    protocol: str,
    verify_hash: bool,
    compressors: dict[int, Any],
    batch: list[list[bytes]],
    cpu: StageCPU | None = None,
) -> list[Event]:
    """Decode a batch; runs of frames of one series, shape and dtype become blocks."""
    t0, spent = time.thread_time(), list[float]()  # compress CPU seconds, per block
    out: list[Event] = []
    run: list[Frame] = []
    for parts in batch:
        ev = _decode(protocol, verify_hash, parts)
        if isinstance(ev, Frame):
            if run and (ev.series, ev.data.shape, ev.data.dtype) != (
                run[0].series,
                run[0].data.shape,
                run[0].data.dtype,
            ):
                out.append(_block(run, compressors, spent))
                run = []
            run.append(ev)
            continue
        if run:
            out.append(_block(run, compressors, spent))
            run = []
        out.append(ev)
    if run:
        out.append(_block(run, compressors, spent))
    if cpu is not None:
        cpu.add("compress", sum(spent))
        cpu.add("decode", time.thread_time() - t0 - sum(spent))
    return out


class Pipeline:
    """Runs receive, decode and write until ``stop`` is set, then drains and finishes."""

    def __init__(self, config: ReceiveConfig, manager: SeriesManager) -> None:
        self.config = config
        self.manager = manager
        self._pending: queue.Queue[Future[list[Event]] | None] = queue.Queue(
            config.max_batches_in_flight
        )
        self.messages_received = 0

    @property
    def queue_depth(self) -> int:
        """Batches received but not yet written."""
        return self._pending.qsize()

    def run(self, stop: threading.Event, on_progress: Callable[[], None] = lambda: None) -> None:
        """Receive until ``stop`` is set; every message received is decoded and handled."""
        ctx: zmq.Context[zmq.Socket[Any]] = zmq.Context.instance()
        sock = ctx.socket(zmq.PULL)
        sock.setsockopt(zmq.RCVHWM, self.config.rcvhwm)
        sock.setsockopt(zmq.LINGER, 0)
        try:
            sock.connect(self.config.endpoint)
        except zmq.ZMQError as err:
            sock.close()
            raise ConfigError(
                f"[receive].endpoint {self.config.endpoint!r}: cannot connect ({err}); "
                "expected tcp://HOST:PORT or ipc://PATH"
            ) from None
        writer = threading.Thread(target=self._write_loop, name="acquire-writer", daemon=True)
        writer.start()
        cfg, manager = self.config, self.manager

        def decode(batch: list[list[bytes]]) -> list[Event]:
            return decode_batch(
                cfg.protocol, cfg.verify_hash, manager.compressors, batch, manager.cpu
            )

        try:
            with ThreadPoolExecutor(self.config.decode_workers, "acquire-decode") as pool:
                self._receive(sock, pool, decode, stop, on_progress)
                self._pending.put(None)
                writer.join()
        finally:
            sock.close()
        if self.manager.fatal is not None:
            raise self.manager.fatal

    def _receive(
        self,
        sock: zmq.Socket[Any],
        pool: ThreadPoolExecutor,
        decode: Callable[[list[list[bytes]]], list[Event]],
        stop: threading.Event,
        on_progress: Callable[[], None],
    ) -> None:
        n_batch = self.config.batch_frames
        while not stop.is_set() and self.manager.fatal is None:
            if not sock.poll(_POLL_MS):
                on_progress()
                continue
            t0 = time.thread_time()
            batch: list[list[bytes]] = []
            try:
                while len(batch) < n_batch:
                    batch.append(sock.recv_multipart(zmq.NOBLOCK))
            except zmq.Again:
                pass
            self.messages_received += len(batch)
            future = pool.submit(decode, batch)
            self.manager.cpu.add("receive", time.thread_time() - t0)
            self._pending.put(future)  # blocks when full: backpressure
            on_progress()

    def _write_loop(self) -> None:
        while True:
            try:
                item = self._pending.get(timeout=0.2)
            except queue.Empty:
                self.manager.tick()
                continue
            if item is None:
                break
            if self.manager.fatal is not None:
                continue  # drain, so the receiver never blocks on a dead writer
            try:
                events = item.result()
                with self.manager.cpu.measure("write"):
                    self.manager.handle(events)
            except Exception as err:  # a bug: stop the daemon, but finish the stores
                log.exception("writer failed")
                self.manager.fatal = err
        with self.manager.cpu.measure("write"):
            self.manager.shutdown("daemon stopped")
