"""``ptyflow emulate``: a DECTRIS detector emulator for tests, demos and benchmarks.

It binds a ZeroMQ PUSH socket (like a detector) and streams a store, an ``.npy`` stack or
synthetic sparse diffraction as stream v1 or v2, with real bslz4 framing, at a frame rate
or flat out. Faults are injected on request, by frame id: dropped, duplicated, reordered
(swapped with the next), corrupted blobs, malformed image headers; a garbage message
before the series header; a stop mid-series; and a restart with a new series.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import zmq
from numpy.typing import NDArray

from ptyflow.acquire._codecs import encode_bslz4, encode_lz4
from ptyflow.acquire._frame_sources import FrameSource, synthetic_frames
from ptyflow.acquire._native_zmq import Batch, send_batch, send_messages
from ptyflow.acquire._stream_v1 import (
    encode_v1_end,
    encode_v1_header,
    encode_v1_image,
    v1_image_head,
)
from ptyflow.acquire._stream_v2 import (
    encode_v2_data,
    encode_v2_end,
    encode_v2_image,
    encode_v2_start,
    v2_image_message,
)
from ptyflow.errors import PtyflowError

__all__ = ["EmulatorPlan", "FrameSource", "emulate", "parse_ids", "synthetic_frames"]

_V1_ENCODING = {"bslz4": "bs{bits}-lz4<", "lz4": "lz4<", "raw": "<"}
_CHUNK = 4096  # messages encoded at a time when sending flat out
_WARM_FRAMES = 1024  # distinct frames encoded before the clock starts (at most)


def parse_ids(text: str) -> frozenset[int]:
    """``"3,7,10-12"`` → {3, 7, 10, 11, 12}."""
    ids: set[int] = set()
    for item in filter(None, (s.strip() for s in text.split(","))):
        lo, sep, hi = item.partition("-")
        try:
            ids.update(range(int(lo), int(hi) + 1) if sep else (int(lo),))
        except ValueError:
            raise PtyflowError(f"frame ids {text!r}: expected e.g. 3,7,10-12") from None
    return frozenset(ids)


@dataclass(frozen=True)
class EmulatorPlan:
    """What to send: protocol, series, timing and faults (frame ids index the series)."""

    protocol: Literal["v1", "v2"] = "v1"
    encoding: Literal["bslz4", "lz4", "raw"] = "bslz4"
    series: int = 1
    n_time: int | None = None  # None: the source's
    rate_hz: float | None = None
    drop: frozenset[int] = frozenset()
    duplicate: frozenset[int] = frozenset()
    reorder: frozenset[int] = frozenset()
    corrupt: frozenset[int] = frozenset()
    malformed: frozenset[int] = frozenset()
    garbage_before_header: bool = False
    split_header: bool = False
    stop_after: int | None = None
    restart: bool = False
    detector_config: dict[str, Any] = field(default_factory=dict)

    def order(self, n_frames: int, missing: frozenset[int] = frozenset()) -> list[int]:
        """Frame ids in sending order, faults applied, ``missing`` left out."""
        ids = list(range(n_frames if self.stop_after is None else min(n_frames, self.stop_after)))
        for i in sorted(self.reorder):
            if i + 1 < len(ids):
                ids[i], ids[i + 1] = ids[i + 1], ids[i]
        out: list[int] = []
        for i in ids:
            if i not in self.drop and i not in missing:
                out += [i, i] if i in self.duplicate else [i]
        return out


class _Encoder:
    """Encoded messages for one series; blobs are cached per distinct source frame."""

    def __init__(self, source: FrameSource, plan: EmulatorPlan, series: int) -> None:
        self.source, self.plan, self.series = source, plan, series
        self._cache: dict[int, tuple[NDArray[Any], bytes, list[bytes]]] = {}
        self.n_scan = source.scan_shape[0] * source.scan_shape[1]
        self.n_frames = self.n_scan * (plan.n_time or source.n_time)

    def header(self) -> list[list[bytes]]:
        user = {"ptyflow": {"scan_shape": list(self.source.scan_shape)}}
        n = self.n_frames
        rows, cols = self.source.frames.shape[1:]
        cfg = {
            "nimages": n,
            "ntrigger": 1,
            "trigger_mode": "exts",
            "x_pixels_in_detector": cols,
            "y_pixels_in_detector": rows,
            "bit_depth_image": self.source.frames.dtype.itemsize * 8,
            "description": "ptyflow emulate",
            **self.plan.detector_config,
        }
        if self.plan.protocol == "v1":
            return encode_v1_header(self.series, cfg, user, split=self.plan.split_header)
        return [[encode_v2_start(self.series, n, self.plan.detector_config, user)]]

    def _cached(self, k: int) -> tuple[NDArray[Any], bytes, list[bytes]]:
        """Source frame ``k``, its blob, and its message parts that do not name the frame."""
        if k not in self._cache:
            data = np.asarray(self.source.frames[k])
            if self.plan.protocol == "v1":
                enc = _V1_ENCODING[self.plan.encoding].format(bits=data.itemsize * 8)
                parts = encode_v1_image(self.series, 0, data, enc)
                blob, rest = parts[2], [hashlib.md5(parts[2]).hexdigest().encode(), *parts[1:]]
            else:
                alg = None if self.plan.encoding == "raw" else self.plan.encoding
                enc_blob = {"bslz4": encode_bslz4, "lz4": encode_lz4}.get(alg or "")
                blob = enc_blob(data) if enc_blob else data.tobytes()
                rest = [encode_v2_data(data, alg, blob)]
            self._cache[k] = (data, blob, rest)
            if len(self._cache) > 4096:  # a large store: encode as we go
                self._cache.pop(next(iter(self._cache)))
        return self._cache[k]

    def warm(self, n_max: int = _WARM_FRAMES) -> None:
        """Encode (cache) the first ``n_max`` distinct frames now (those that exist)."""
        for k in range(min(len(self.source.frames), n_max)):
            if k not in self.source.missing:
                self._cached(k)

    def image(self, frame: int) -> list[bytes]:
        data, blob, rest = self._cached(frame % len(self.source.frames))
        faulty = frame in self.plan.corrupt or frame in self.plan.malformed
        if not faulty and self.plan.protocol == "v1":
            return [v1_image_head(self.series, frame, rest[0].decode()), *rest[1:]]
        if not faulty:
            return [v2_image_message(self.series, frame, rest[0])]
        if frame in self.plan.corrupt:  # truncated and scrambled: undecodable
            blob = blob[:12] + bytes(reversed(blob[12 : max(13, len(blob) // 2)]))
        if self.plan.protocol == "v1":
            enc = _V1_ENCODING[self.plan.encoding].format(bits=data.itemsize * 8)
            parts = encode_v1_image(self.series, frame, data, enc, blob=blob)
            if frame in self.plan.malformed:
                parts[1] = b'{"htype": "dimage_d-1.0", "shape": [1'  # truncated JSON
            return parts
        alg = None if self.plan.encoding == "raw" else self.plan.encoding
        msg = encode_v2_image(self.series, frame, data, alg, blob=blob)
        return [msg[: len(msg) // 2] if frame in self.plan.malformed else msg]

    def images(self, frames: list[int]) -> Batch:
        """The messages of ``frames`` as one batch; v1 images without faults share their
        cached parts (only part 0 names the frame), so building costs little per frame."""
        faults = self.plan.corrupt | self.plan.malformed
        if self.plan.protocol != "v1" or faults.intersection(frames):
            return Batch.of([self.image(frame) for frame in frames])
        n_source = len(self.source.frames)
        slot = {k: i for i, k in enumerate(dict.fromkeys(f % n_source for f in frames))}
        rests = [self._cached(k)[2] for k in slot]  # [digest, dimage_d, blob, dconfig]
        digests = [rest[0].decode() for rest in rests]
        which = np.fromiter((slot[f % n_source] for f in frames), np.intp, len(frames))
        pairs = zip(frames, which.tolist(), strict=True)
        heads = [v1_image_head(self.series, f, digests[i]) for f, i in pairs]
        return Batch.of_heads(heads, [rest[1:] for rest in rests], which)

    def end(self) -> list[bytes]:
        if self.plan.protocol == "v1":
            return encode_v1_end(self.series)
        return [encode_v2_end(self.series)]


def _send_series(
    sock: zmq.Socket[Any], enc: _Encoder, plan: EmulatorPlan, complete: bool
) -> tuple[int, float]:
    """Send one series; the frames sent and the seconds the images took (the header waits
    for a receiver to connect, so it is not timed)."""
    for msg in enc.header():
        sock.send_multipart(msg)
    clean = EmulatorPlan() if complete else plan
    order = clean.order(enc.n_frames, enc.source.missing)
    period_s = 1.0 / plan.rate_hz if plan.rate_hz else 0.0
    t0 = time.perf_counter()
    if not period_s:  # flat out: encode a chunk in Python, send it from compiled code
        for a in range(0, len(order), _CHUNK):
            send_batch(sock, enc.images(order[a : a + _CHUNK]))
    for sent, frame in enumerate(order if period_s else []):
        delay = t0 + sent * period_s - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        sock.send_multipart(enc.image(frame))
    seconds = time.perf_counter() - t0
    if complete or plan.stop_after is None:
        sock.send_multipart(enc.end())
    return len(order), seconds


def emulate(
    source: FrameSource,
    endpoint: str,
    plan: EmulatorPlan,
    on_bound: Any = None,
    linger_s: float | None = None,
) -> dict[str, Any]:
    """Bind ``endpoint``, stream the series (and a restart), wait until delivered.

    ``on_bound(endpoint)`` is called with the real endpoint once bound (port 0 → a free
    port). Sending blocks until a receiver connects. Returns what was sent and how fast.
    """
    ctx: zmq.Context[zmq.Socket[Any]] = zmq.Context()  # its own, so term() waits for delivery
    sock = ctx.socket(zmq.PUSH)
    sock.setsockopt(zmq.SNDHWM, 4096)
    try:
        sock.bind(endpoint)
        bound = sock.getsockopt_string(zmq.LAST_ENDPOINT)
        if on_bound is not None:
            on_bound(bound)
        if plan.garbage_before_header:
            sock.send_multipart([b"\xff not a header"])
        enc = _Encoder(source, plan, plan.series)
        enc.warm()  # encode before timing starts: a detector has its frames ready
        send_messages(sock, [])  # load the compiled send loop
        cpu0_s = time.process_time()
        sent, seconds = _send_series(sock, enc, plan, complete=False)
        if plan.restart:
            clean = replace(plan, corrupt=frozenset(), malformed=frozenset())
            more, _ = _send_series(
                sock, _Encoder(source, clean, plan.series + 1), clean, complete=True
            )
            sent += more
    finally:
        # deliver everything queued (a slow receiver must not lose the tail), unless limited
        sock.close(linger=-1 if linger_s is None else int(linger_s * 1000))
        ctx.term()  # returns once the queue is delivered (or the linger expired)
    return {
        "cpu_s": time.process_time() - cpu0_s,  # all threads, from the first send to delivery
        "endpoint": bound,
        "frames_sent": sent,
        "seconds": seconds,
        "frames_per_s": sent / seconds if seconds > 0 else None,
    }
