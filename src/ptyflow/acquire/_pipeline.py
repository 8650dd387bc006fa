"""The daemon's pipeline: receive → decode (+compress) workers → writer, overlapping.
Python runs once per batch, never per frame.

- The receiving thread is the only owner of the ZeroMQ PULL socket. A compiled loop
  (``_native_zmq``) copies up to ``batch_frames`` messages into one arena without parsing
  them; the batch goes to a worker pool. The futures go into a bounded queue in arrival
  order: when the writer falls behind, the queue fills, the receiver blocks, ZeroMQ's
  receive high-water mark fills and the sender blocks. Nothing is dropped, and memory is
  bounded by ``max_batches_in_flight`` arenas.
- Workers decode and compress a batch (``_decode_batch``), returning its events in order.
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

from ptyflow.acquire._decode_batch import decode_batch
from ptyflow.acquire._fast_v1 import Layouts
from ptyflow.acquire._manager import Event, SeriesManager
from ptyflow.acquire._native_zmq import Batch, NativeReceiver
from ptyflow.acquire._stream_v1 import encode_v1_image
from ptyflow.config.acquire import ReceiveConfig
from ptyflow.errors import ConfigError

__all__ = ["Pipeline", "decode_batch"]

log = logging.getLogger("ptyflow.acquire")
_POLL_MS = 50  # how often the receiver looks at the stop flag while the stream is quiet


def _warm_up(receiver: NativeReceiver) -> None:
    """Load (or compile) the receive and decode kernels before connecting."""
    receiver.receive()  # not connected yet: returns at once, empty
    image = encode_v1_image(0, 0, np.zeros((8, 8), np.uint16), "<")
    decode_batch("v1", True, {}, [image])


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
        t0 = time.perf_counter()
        receiver = NativeReceiver(sock, self.config.batch_frames)
        _warm_up(receiver)
        log.info("acquire: receive and decode kernels ready in %.2f s", time.perf_counter() - t0)
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

        layouts = Layouts()

        def decode(batch: Batch) -> list[Event]:
            return decode_batch(
                cfg.protocol, cfg.verify_hash, manager.compressors, batch, manager.cpu, layouts
            )

        try:
            with ThreadPoolExecutor(self.config.decode_workers, "acquire-decode") as pool:
                self._receive(receiver, pool, decode, stop, on_progress)
                self._pending.put(None)
                writer.join()
        finally:
            sock.close()
        if self.manager.fatal is not None:
            raise self.manager.fatal

    def _receive(
        self,
        receiver: NativeReceiver,
        pool: ThreadPoolExecutor,
        decode: Callable[[Batch], list[Event]],
        stop: threading.Event,
        on_progress: Callable[[], None],
    ) -> None:
        while not stop.is_set() and self.manager.fatal is None:
            t0 = time.thread_time()
            batch = receiver.receive()
            if not len(batch):
                self.manager.cpu.add("receive", time.thread_time() - t0)
                receiver.sock.poll(_POLL_MS)
                on_progress()
                continue
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
