"""A batch of received messages decoded and compressed by one worker, in arrival order.

Workers parse a whole batch in compiled code (``_fast_v1``; anything unusual goes to
``decode_v1``/``decode_v2`` in order), decode each run of frames with ``_fast_decode``
(C decoder and MD5, nogil) a cache-sized chunk at a time, and compress each chunk with
the open series' ``Compressor`` (nogil Numba kernels) while it is still in cache. Python
runs once per batch (or chunk), never per frame.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ptyflow.acquire._cpu import StageCPU
from ptyflow.acquire._events import BadMessage, Frame, FrameBlock
from ptyflow.acquire._fast_decode import decode_into
from ptyflow.acquire._fast_v1 import FAST, Layout, Layouts, classify
from ptyflow.acquire._manager import Event
from ptyflow.acquire._native_zmq import Batch
from ptyflow.acquire._stream_v1 import Event as Decoded
from ptyflow.acquire._stream_v1 import decode_v1
from ptyflow.acquire._stream_v2 import decode_v2

__all__ = ["decode_batch"]


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

    def compressed(self, block: FrameBlock) -> None:
        """Frames already compressed (with their live sums)."""
        self._flush()
        self.out.append(block)

    def finish(self) -> list[Event]:
        self._flush()
        return self.out

    def _flush(self) -> None:
        run, self._frames = self._frames, []
        if run:
            ids = np.fromiter((f.frame for f in run), np.int64, len(run))
            self.block(run[0].series, ids, np.stack([f.data for f in run]))


_scratch = threading.local()  # each worker's decode buffer, reused batch after batch
#: Frames decoded per kernel call at most, then compressed at once: they are still in the
#: core's L2 cache (2 MiB here) when the compressor reads them. Decoding a whole batch
#: first cost ~1 µs more per frame, decode and compress together, at 256 frames.
_CHUNK_BYTES = 1 << 20


def _scratch_frames(n: int, shape: tuple[int, int], dtype: np.dtype[Any]) -> NDArray[Any]:
    """The worker's own ``(n, *shape)`` buffer to decode into (compressed before reuse)."""
    buf: NDArray[Any] | None = getattr(_scratch, "frames", None)
    if buf is None or buf.shape[1:] != shape or buf.dtype != dtype or len(buf) < n:
        buf = _scratch.frames = np.empty((n, *shape), dtype)
    return buf[:n]


def _decode_compress(
    comp: Any, blobs: tuple[Any, ...], lay: Layout, events: _Events
) -> tuple[NDArray[np.bool_], NDArray[Any], NDArray[np.float64]]:
    """Decode the blobs (``decode_into``'s first arguments) a cache-sized chunk at a time,
    compressing each chunk; returns which succeeded and all the outputs (those of the
    failures are garbage, and dropped)."""
    arena, offs, lens, hashes, algorithm, verify = blobs
    n = len(offs)
    out, live = comp.empty_outputs(n)
    ok = np.empty(n, np.bool_)
    step = max(1, _CHUNK_BYTES // (math.prod(lay.shape) * lay.dtype.itemsize))
    scratch = _scratch_frames(min(n, step), lay.shape, lay.dtype)
    for c0 in range(0, n, step):
        c1 = min(n, c0 + step)
        data = scratch[: c1 - c0]
        ok[c0:c1] = decode_into(arena, offs[c0:c1], lens[c0:c1], hashes[c0:c1], algorithm,
                                verify, data)  # fmt: skip
        t0 = time.thread_time()
        comp.compress(data, out[c0:c1], live[c0:c1])  # nogil: the other worker runs meanwhile
        events.compress_s += time.thread_time() - t0
    return ok, out, live


def _fast_runs(batch: Batch, layouts: Layouts, verify_hash: bool, events: _Events) -> None:
    """Decode the arena messages of a v1 batch: image runs in compiled code, one call per
    run of frames of one series and layout (per chunk of it, when compressed at once);
    every other message with ``decode_v1``."""
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
        lay, run_series = table[layout[a]], int(series[a])
        comp = events.compressors.get(run_series)
        blob = batch.msg_part0[a:b] + 2
        blobs = (batch.arena, batch.part_off[blob], batch.part_len[blob], hash_off[a:b],
                 lay.algorithm, verify_hash)  # fmt: skip
        live: NDArray[np.float64] | None = None
        if comp is not None and (comp.in_shape, comp.in_dtype) == (lay.shape, lay.dtype):
            ok, data, live = _decode_compress(comp, blobs, lay, events)
        else:  # no store open yet: the writer compresses these (or rejects them)
            data = np.empty((b - a, *lay.shape), lay.dtype)
            ok = decode_into(*blobs, data)
        i = 0
        for j in [*np.flatnonzero(~ok).tolist(), b - a]:  # failures: decode_v1 says why
            ids = frame[a + i : a + j]
            if j > i and live is None:
                events.block(run_series, ids, data[i:j])
            elif j > i and live is not None:
                events.compressed(FrameBlock(run_series, ids, data[i:j], live[i:j], comp))
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
