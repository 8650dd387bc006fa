"""The daemon's pipeline: receive → decode (+compress) workers → writer, overlapping.
Python runs once per batch, never per frame.

- The receiving thread is the only owner of the ZeroMQ PULL socket. A compiled loop
  (``_native_zmq``) copies up to ``batch_frames`` messages into one arena without parsing
  them; the batch goes to a worker pool. The futures go into a bounded queue in arrival
  order: when the writer falls behind, the queue fills, the receiver blocks, ZeroMQ's
  receive high-water mark fills and the sender blocks. Nothing is dropped, and memory is
  bounded by ``max_batches_in_flight`` arenas.
- Workers parse a whole batch in compiled code (``_fast_v1``; anything unusual goes to
  ``decode_v1``/``decode_v2`` in order), decode each run of frames straight into one array
  (``_fast_decode``: C decoder and MD5, nogil) and compress it with the open series'
  ``Compressor`` (nogil Numba kernels), returning the events in order.
- The writer thread takes futures in order, so series starts, frames and ends keep the
  order they arrived in, and feeds the events to the :class:`SeriesManager`.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
import zmq
from numpy.typing import NDArray

from ptyflow.acquire._cpu import StageCPU
from ptyflow.acquire._events import BadMessage, Frame, FrameBlock
from ptyflow.acquire._fast_decode import decode_into
from ptyflow.acquire._fast_v1 import FAST, Layouts, classify
from ptyflow.acquire._manager import Event, SeriesManager
from ptyflow.acquire._native_zmq import Batch, NativeReceiver
from ptyflow.acquire._stream_v1 import Event as Decoded
from ptyflow.acquire._stream_v1 import decode_v1, encode_v1_image
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


class _Events:
    """A batch's events in arrival order; runs of frames become (compressed) blocks."""

    def __init__(self, compressors: dict[int, Any]) -> None:
        self.compressors = compressors
        self.out: list[Event] = []
        self.compress_s = 0.0
        self._frames: list[Frame] = []  # decoded one by one (the Python path)

    def add(self, ev: Decoded) -> None:
        if isinstance(ev, Frame):
            run = self._frames
            if run and (ev.series, ev.data.shape, ev.data.dtype) != (
                run[0].series, run[0].data.shape, run[0].data.dtype,
            ):  # fmt: skip
                self._flush()
            self._frames.append(ev)
            return
        self._flush()
        self.out.append(ev)

    def block(
        self, series: int, ids: NDArray[np.int64], data: NDArray[Any], comp: Any = None
    ) -> None:
        """Frames of one series, stacked; compressed here if the series' compressor is ready
        (``comp``, or the one open now: the writer thread adds and removes them)."""
        self._flush()
        comp = comp or self.compressors.get(series)
        if comp is None or data.shape[1:] != comp.in_shape or data.dtype != comp.in_dtype:
            self.out.append(FrameBlock(series, ids, data))  # the writer compresses or rejects
            return
        out, live = comp.empty_outputs(len(ids))
        t0 = time.thread_time()
        comp.compress(data, out, live)  # nogil: the other worker runs meanwhile
        self.compress_s += time.thread_time() - t0
        self.out.append(FrameBlock(series, ids, out, live, comp))

    def finish(self) -> list[Event]:
        self._flush()
        return self.out

    def _flush(self) -> None:
        run, self._frames = self._frames, []
        if run:
            ids = np.fromiter((f.frame for f in run), np.int64, len(run))
            self.block(run[0].series, ids, np.stack([f.data for f in run]))


_scratch = threading.local()  # each worker's decode buffer, reused batch after batch


def _frames(n: int, shape: tuple[int, int], dtype: np.dtype[Any], reusable: bool) -> NDArray[Any]:
    """An ``(n, *shape)`` array to decode into: the worker's own buffer if the frames are
    compressed (and so released) before the next batch, else a new one for the writer."""
    if not reusable:
        return np.empty((n, *shape), dtype)
    buf: NDArray[Any] | None = getattr(_scratch, "frames", None)
    if buf is None or buf.shape[1:] != shape or buf.dtype != dtype or len(buf) < n:
        buf = _scratch.frames = np.empty((max(n, 256), *shape), dtype)
    return buf[:n]


def _fast_runs(batch: Batch, layouts: Layouts, verify_hash: bool, events: _Events) -> None:
    """Decode the arena messages of a v1 batch: image runs in compiled code, one call per
    run of frames of one series and layout; every other message with ``decode_v1``."""
    table, kind, series, frame, layout, hash_off = classify(batch, layouts)
    n = batch.n
    fast = kind == FAST
    starts = np.ones(n, np.bool_)
    starts[1:] = ~fast[1:] | ~fast[:-1] | (series[1:] != series[:-1]) | (layout[1:] != layout[:-1])
    bounds = [*np.flatnonzero(starts).tolist(), n]
    for a, b in itertools.pairwise(bounds):
        if not fast[a]:
            events.add(decode_v1(batch.parts(a), verify_hash))
            continue
        lay = table[layout[a]]
        comp = events.compressors.get(int(series[a]))
        reusable = comp is not None and (comp.in_shape, comp.in_dtype) == (lay.shape, lay.dtype)
        data = _frames(b - a, lay.shape, lay.dtype, reusable)
        blob = batch.msg_part0[a:b] + 2
        ok = decode_into(batch.arena, batch.part_off[blob], batch.part_len[blob],
                         hash_off[a:b], lay.algorithm, verify_hash, data)  # fmt: skip
        i = 0
        for j in [*np.flatnonzero(~ok).tolist(), b - a]:  # failures: decode_v1 says why
            if j > i:
                events.block(int(series[a]), frame[a + i : a + j], data[i:j], comp)
            if j < b - a:
                events.add(decode_v1(batch.parts(a + j), verify_hash))
            i = j + 1


def decode_batch(
    protocol: str,
    verify_hash: bool,
    compressors: dict[int, Any],
    batch: Batch | Sequence[Sequence[bytes]],
    cpu: StageCPU | None = None,
    layouts: Layouts | None = None,
) -> list[Event]:
    """Decode a batch; runs of frames of one series, shape and dtype become blocks.

    ``layouts``: the ``dimage_d`` layouts learned so far (shared by the workers)."""
    t0 = time.thread_time()
    batch = batch if isinstance(batch, Batch) else Batch.of(batch)
    layouts = layouts if layouts is not None else Layouts()
    events = _Events(compressors)
    if protocol == "v1":
        _fast_runs(batch, layouts, verify_hash, events)
    else:
        for i in range(batch.n):
            events.add(_decode(protocol, verify_hash, batch.parts(i)))
    for parts in batch.extra:
        events.add(_decode(protocol, verify_hash, parts))
    out = events.finish()
    if cpu is not None:
        cpu.add("compress", events.compress_s)
        cpu.add("decode", time.thread_time() - t0 - events.compress_s)
    return out


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
