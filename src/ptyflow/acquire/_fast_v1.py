"""Stream v1 image messages recognised by compiled code, a batch at a time.

The fast path only ever accepts what :func:`decode_v1` would decode into a ``Frame`` and
hands everything else (headers, ends, configs, malformed or unusual JSON, another
``dimage_d``, a wrong part count) to ``decode_v1``, so faults are reported identically:

- ``dimage-1.0``: a flat JSON object scanned byte by byte: ASCII strings without escapes
  and integers only, no duplicate known keys, ``htype`` exactly ``dimage-1.0``.
- ``dimage_d-1.0``: compared with the bytes of a *layout* learned (and validated by
  ``_layout``) from an earlier message; only the digits of its ``size`` may differ, and
  they must equal the blob's length.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
import orjson
from numpy.typing import NDArray

from ptyflow.acquire._codecs import StreamError
from ptyflow.acquire._native_zmq import Batch
from ptyflow.acquire._stream_v1 import _layout

__all__ = ["FAST", "PYTHON", "Layout", "Layouts", "classify"]

PYTHON, FAST, NEW_LAYOUT = 0, 1, 2  # what classify says about each message
_MAX_LAYOUTS = 16
_MAX_TRIES = 8  # new layouts tried per batch (a storm of bad ones stays cheap)
_K_HTYPE = np.frombuffer(b"htype", np.uint8)
_K_SERIES = np.frombuffer(b"series", np.uint8)
_K_FRAME = np.frombuffer(b"frame", np.uint8)
_K_HASH = np.frombuffer(b"hash", np.uint8)
_V_DIMAGE = np.frombuffer(b"dimage-1.0", np.uint8)
_SIZE_RE = re.compile(rb'"size"[ \t\n\r]*:[ \t\n\r]*([0-9]+)')
_jit = numba.njit(nogil=True, cache=True)


@_jit
def _ws(a: Any, i: Any, end: Any) -> Any:
    while i < end and (a[i] == 32 or a[i] == 9 or a[i] == 10 or a[i] == 13):
        i += 1
    return i


@_jit
def _is(a: Any, i: Any, n: Any, key: Any) -> Any:
    if n != key.size:
        return False
    for k in range(n):  # noqa: SIM110 (a loop: Numba compiles it)
        if a[i + k] != key[k]:
            return False
    return True


@_jit
def _digits(a: Any, i: Any, end: Any) -> Any:
    """(value, end) of a JSON integer ≥ 0 of at most 18 digits at ``i``; end -1: none."""
    j, value = i, 0
    while j < end and 48 <= a[j] <= 57 and j - i < 19:
        value = value * 10 + a[j] - 48
        j += 1
    if j == i or j - i > 18 or (a[i] == 48 and j - i > 1):
        return 0, -1
    return value, j


@_jit
def _string_end(a: Any, i: Any, end: Any) -> Any:
    """The closing quote of a string whose text starts at ``i``: printable ASCII without
    escapes only (-1: anything else, which ``decode_v1`` then judges)."""
    while i < end and a[i] != 34 and a[i] != 92 and 32 <= a[i] < 128:
        i += 1
    return i if i < end and a[i] == 34 else -1


@_jit
def _head(a: Any, i: Any, end: Any) -> Any:
    """Scan a ``dimage-1.0`` part: (ok, series, frame, hash offset or -1, hash length)."""
    series, frame, h_off, h_len, seen = -1, -1, -1, 0, 0
    i = _ws(a, i, end)
    if i >= end or a[i] != 123:  # {
        return False, 0, 0, -1, 0
    i = _ws(a, i + 1, end)
    while i < end and a[i] == 34:  # a key
        k0 = i + 1
        i = _string_end(a, k0, end)
        if i < 0:
            return False, 0, 0, -1, 0
        kn = i - k0
        i = _ws(a, i + 1, end)
        if i >= end or a[i] != 58:  # :
            return False, 0, 0, -1, 0
        i = _ws(a, i + 1, end)
        if i < end and a[i] == 34:  # a string value
            v0 = i + 1
            i = _string_end(a, v0, end)
            if i < 0:
                return False, 0, 0, -1, 0
            vn = i - v0
            i += 1
            if _is(a, k0, kn, _K_HTYPE):
                if seen & 1 or not _is(a, v0, vn, _V_DIMAGE):
                    return False, 0, 0, -1, 0
                seen |= 1
            elif _is(a, k0, kn, _K_HASH):
                if seen & 8:
                    return False, 0, 0, -1, 0
                seen |= 8
                h_off, h_len = (v0, vn) if vn > 0 else (-1, 0)
            elif _is(a, k0, kn, _K_SERIES) or _is(a, k0, kn, _K_FRAME):
                return False, 0, 0, -1, 0
        else:  # an integer value
            value, i = _digits(a, i, end)
            if i < 0:
                return False, 0, 0, -1, 0
            if _is(a, k0, kn, _K_SERIES):
                if seen & 2:
                    return False, 0, 0, -1, 0
                seen, series = seen | 2, value
            elif _is(a, k0, kn, _K_FRAME):
                if seen & 4:
                    return False, 0, 0, -1, 0
                seen, frame = seen | 4, value
            elif _is(a, k0, kn, _K_HTYPE) or _is(a, k0, kn, _K_HASH):
                return False, 0, 0, -1, 0
        i = _ws(a, i, end)
        if i < end and a[i] == 44:  # ,
            i = _ws(a, i + 1, end)
            continue
        break
    if i >= end or a[i] != 125 or _ws(a, i + 1, end) != end or seen & 7 != 7:  # }
        return False, 0, 0, -1, 0
    return True, series, frame, h_off, h_len


@_jit
def _layout_of(
    a: Any, i: Any, n: Any, blob_len: Any, tpl: Any, tpl_off: Any, tpl_pre: Any, tpl_len: Any
) -> Any:
    """The learned layout ``a[i:i+n]`` is (-1: none; -2: one, but its size is wrong)."""
    for t in range(tpl_off.size):
        t0, pre, tn = tpl_off[t], tpl_pre[t], tpl_len[t]
        if pre < 0:
            if n == tn and _is(a, i, n, tpl[t0 : t0 + tn]):
                return t
            continue
        if n <= tn or not _is(a, i, pre, tpl[t0 : t0 + pre]):
            continue
        size, j = _digits(a, i + pre, i + n)
        if j < 0 or i + n - j != tn - pre or not _is(a, j, tn - pre, tpl[t0 + pre : t0 + tn]):
            continue
        return t if size == blob_len else -2
    return -1


@_jit
def _classify(
    arena: Any,
    part_off: Any,
    part_len: Any,
    msg_part0: Any,
    tpl: Any,
    tpl_off: Any,
    tpl_pre: Any,
    tpl_len: Any,
    kind: Any,
    series: Any,
    frame: Any,
    layout: Any,
    hash_off: Any,
) -> Any:
    for m in range(kind.size):
        kind[m] = PYTHON
        p = msg_part0[m]
        if msg_part0[m + 1] - p != 4:
            continue
        ok, s, f, h_off, h_len = _head(arena, part_off[p], part_off[p] + part_len[p])
        if not ok or (h_off >= 0 and h_len != 32):
            continue
        t = _layout_of(arena, part_off[p + 1], part_len[p + 1], part_len[p + 2],
                       tpl, tpl_off, tpl_pre, tpl_len)  # fmt: skip
        if t == -1:
            kind[m] = NEW_LAYOUT
        elif t >= 0:
            kind[m], series[m], frame[m], layout[m], hash_off[m] = FAST, s, f, t, h_off


@dataclass(frozen=True)
class Layout:
    """A validated ``dimage_d``: how its blobs decode."""

    algorithm: str | None  # "bslz4", "lz4" or None (raw)
    dtype: np.dtype[Any]
    shape: tuple[int, int]  # (rows, cols)


class Layouts:
    """The ``dimage_d`` parts seen so far (thread-safe: every worker learns)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.layouts: list[Layout] = []
        self._templates: list[tuple[bytes, int]] = []
        self.snapshot = self._pack()

    def _pack(self) -> tuple[tuple[NDArray[Any], ...], tuple[Layout, ...]]:
        """The templates as the kernel's arrays, and the layouts they stand for."""
        tpl = np.frombuffer(b"".join(t for t, _ in self._templates) or b"\0", np.uint8)
        lens = np.array([len(t) for t, _ in self._templates], np.int64)
        offs = (np.cumsum(lens) - lens).astype(np.int64)
        pre = np.array([p for _, p in self._templates], np.int64)
        return (tpl, offs, pre, lens), tuple(self.layouts)

    def learn(self, desc_part: bytes) -> bool:
        """Add ``desc_part`` if it is a valid ``dimage_d`` the fast path can decode."""
        try:
            desc = orjson.loads(desc_part)
            shape = desc["shape"]
            algorithm, dtype = _layout(tuple(shape), desc.get("type"), desc.get("encoding"))
        except (orjson.JSONDecodeError, StreamError, TypeError, KeyError):
            return False
        plain = all(
            type(v) in (str, int) or (type(v) is list and all(type(n) is int for n in v))
            for v in desc.values()
        )
        if not plain:
            return False
        template, pre = desc_part, -1
        if "size" in desc:  # the only thing that changes from frame to frame
            found = _SIZE_RE.search(desc_part)
            if desc_part.count(b'"size"') != 1 or not found or int(found[1]) != desc["size"]:
                return False
            template, pre = desc_part[: found.start(1)] + desc_part[found.end(1) :], found.start(1)
        layout = Layout(algorithm, dtype, (shape[1], shape[0]))
        with self._lock:
            if (template, pre) in self._templates:
                return True
            if len(self._templates) == _MAX_LAYOUTS:
                self._templates, self.layouts = [], []
            self._templates.append((template, pre))
            self.layouts.append(layout)
            self.snapshot = self._pack()
        return True


def classify(batch: Batch, layouts: Layouts) -> tuple[Any, ...]:
    """The layouts, then (kind, series, frame, layout, hash offset) of each arena message of
    ``batch``; new layouts are learned from the batch itself: only their first message is
    slow."""
    n = batch.n
    kind = np.zeros(n, np.int8)
    series, frame, layout, hash_off = (np.zeros(n, np.int64) for _ in range(4))
    tried: set[bytes] = set()
    while True:
        (tpl, tpl_off, tpl_pre, tpl_len), table = layouts.snapshot
        _classify(batch.arena, batch.part_off, batch.part_len, batch.msg_part0, tpl, tpl_off,
                  tpl_pre, tpl_len, kind, series, frame, layout, hash_off)  # fmt: skip
        new = np.flatnonzero(kind == NEW_LAYOUT)
        learned = False
        for i in new.tolist():
            desc = batch.parts(i)[1]
            if len(tried) == _MAX_TRIES or desc in tried:
                continue
            tried.add(desc)
            if layouts.learn(desc):
                learned = True
                break
        if not learned:
            kind[new] = PYTHON
            return table, kind, series, frame, layout, hash_off
