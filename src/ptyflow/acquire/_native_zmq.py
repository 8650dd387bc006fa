"""The compiled receive loop: libzmq called from a ``nogil`` Numba kernel, a batch at a time.

``NativeReceiver.receive`` drains up to ``batch_frames`` messages from the PULL socket and
copies every part into one arena (a byte array), recording each part's offset and length
and each message's parts, so Python runs once per batch, never per frame. A part that
does not fit (a huge header appendix, or more parts than the tables hold) ends the batch:
Python takes that message's remaining parts with pyzmq, in order. ``send_messages`` is
the emulator's counterpart (``zmq_send`` from compiled code).
"""

from __future__ import annotations

import ctypes
import errno
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numba
import numpy as np
import zmq
from numpy.typing import NDArray

from ptyflow.acquire import _native as c

__all__ = ["Batch", "NativeReceiver", "send_batch", "send_messages"]

c.load_native()
_EAGAIN, _EINTR, _DONTWAIT, _SNDMORE = errno.EAGAIN, errno.EINTR, 1, 2
_OK, _SPILL, _AGAIN = 0, 1, 2  # _SPILL: the message in zmq_msg_t is unfinished: Python
_FILL_WAIT_MS = 1  # a batch not full yet waits this long for more, so batches stay large
_MSG_BYTES = 64  # sizeof(zmq_msg_t)
_MAX_ARENA_BYTES = 64 << 20  # per batch in flight


@numba.njit(nogil=True, cache=True)
def _receive(
    sock: Any, msg: Any, arena: Any, part_off: Any, part_len: Any, msg_part0: Any, state: Any
) -> Any:
    """Receive until ``msg_part0`` is full (or nothing is waiting); returns the status.

    ``state`` = (messages, parts, arena bytes used) so far, updated: a call continues the
    batch. ``msg_part0[i]`` is the first part of message ``i`` (``msg_part0[n]`` the end).
    On ``_SPILL`` the unfinished message's parts so far are recorded and its current part
    is left in ``msg`` (initialised, unclosed); a status < 0 is ``-errno``.
    """
    base = arena.ctypes.data
    n_msgs, n_parts, used = state[0], state[1], state[2]
    status = _OK
    while n_msgs < msg_part0.size - 1 and status == _OK:
        first = n_parts
        more = True
        while more:
            c.zmq_msg_init(msg)
            # parts after the first are already here: ZeroMQ delivers messages atomically
            rc = c.zmq_msg_recv(msg, sock, _DONTWAIT if n_parts == first else 0)
            if rc < 0:
                err = c.zmq_errno()
                c.zmq_msg_close(msg)
                if err == _EINTR:
                    continue
                status = _AGAIN if err == _EAGAIN and n_parts == first else -err
                break
            size = c.zmq_msg_size(msg)
            if n_parts == part_off.size or used + size > arena.size:
                status = _SPILL
                break
            c.memcpy(base + used, c.zmq_msg_data(msg), size)
            part_off[n_parts], part_len[n_parts] = used, size
            used += size
            n_parts += 1
            more = c.zmq_msg_more(msg) != 0
            c.zmq_msg_close(msg)
        if status == _OK:
            n_msgs += 1
        msg_part0[n_msgs] = n_parts if status == _OK else first
    state[0], state[1], state[2] = n_msgs, n_parts, used
    return status


@numba.njit(nogil=True, cache=True)
def _send(sock: Any, arena: Any, part_off: Any, part_len: Any, msg_part0: Any) -> Any:
    """Send the messages; returns (messages sent, 0) or, on an error, (sent, -errno)."""
    base = arena.ctypes.data
    for m in range(msg_part0.size - 1):
        last = msg_part0[m + 1] - 1
        for p in range(msg_part0[m], last + 1):
            flags = 0 if p == last else _SNDMORE
            while c.zmq_send(sock, base + part_off[p], part_len[p], flags) < 0:
                err = c.zmq_errno()
                if err != _EINTR or p == msg_part0[m]:  # EINTR before a message: to Python
                    return m, -err
    return msg_part0.size - 1, 0


def send_messages(sock: zmq.Socket[Any], messages: Sequence[Sequence[bytes]]) -> None:
    """Send ``messages`` (blocking) from compiled code: the emulator, flat out."""
    send_batch(sock, Batch.of(messages))


def send_batch(sock: zmq.Socket[Any], batch: Batch) -> None:
    """Send the arena messages of ``batch`` (blocking) from compiled code."""
    done = 0
    while True:  # at least once: sending nothing loads the kernel (a warm-up)
        sent, status = _send(sock.underlying, batch.arena, batch.part_off, batch.part_len,
                             batch.msg_part0[done:])  # fmt: skip
        done += sent
        if status not in (0, -_EINTR):
            raise zmq.ZMQError(-status)
        if done == batch.n:
            return


@dataclass
class Batch:
    """Messages received in one go: ``n`` messages in the arena, then ``extra`` (a spilled
    message, as bytes) after them."""

    arena: NDArray[np.uint8]
    part_off: NDArray[np.int64]
    part_len: NDArray[np.int64]
    msg_part0: NDArray[np.int64]
    n: int
    extra: list[list[bytes]] = field(default_factory=list)

    @classmethod
    def of(cls, messages: Sequence[Sequence[bytes]]) -> Batch:
        """A batch holding ``messages``; a part object that recurs is stored once (the
        emulator's cached blobs: less to copy)."""
        stored: dict[int, int] = {}  # id(part) → its offset in the arena
        unique: list[bytes] = []
        offs, lens, used = [], [], 0
        for part in itertools.chain.from_iterable(messages):
            if id(part) not in stored:
                stored[id(part)] = used
                unique.append(part)
                used += len(part)
            offs.append(stored[id(part)])
            lens.append(len(part))
        arena = np.frombuffer(b"".join(unique) or b"\0", np.uint8).copy()
        part0 = np.cumsum([0, *map(len, messages)], dtype=np.int64)
        return cls(arena, np.array(offs, np.int64), np.array(lens, np.int64), part0, len(messages))

    @classmethod
    def of_heads(
        cls, heads: Sequence[bytes], tails: Sequence[Sequence[bytes]], which: NDArray[np.intp]
    ) -> Batch:
        """Messages ``[heads[i], *tails[which[i]]]``: a first part of their own, the rest
        shared and stored once (the emulator's image messages: the same as :meth:`of`,
        without a Python loop over every part). All tails have the same number of parts."""
        n, per_tail = len(heads), len(tails[0])
        shared = [part for tail in tails for part in tail]
        tail_len = np.fromiter(map(len, shared), np.int64, len(shared))
        head_len = np.fromiter(map(len, heads), np.int64, n)
        arena = np.frombuffer(b"".join([*shared, *heads]) or b"\0", np.uint8).copy()
        tail_off = (np.cumsum(tail_len) - tail_len).reshape(len(tails), per_tail)
        part_off = np.empty((n, 1 + per_tail), np.int64)
        part_len = np.empty((n, 1 + per_tail), np.int64)
        part_off[:, 0] = tail_len.sum() + np.cumsum(head_len) - head_len
        part_len[:, 0] = head_len
        part_off[:, 1:] = tail_off[which]
        part_len[:, 1:] = tail_len.reshape(len(tails), per_tail)[which]
        part0 = np.arange(0, n * (1 + per_tail) + 1, 1 + per_tail, dtype=np.int64)
        return cls(arena, part_off.reshape(-1), part_len.reshape(-1), part0, n)

    def __len__(self) -> int:
        return self.n + len(self.extra)

    def parts(self, i: int) -> list[bytes]:
        """Message ``i``'s parts as bytes (the Python decoders' input)."""
        if i >= self.n:
            return self.extra[i - self.n]
        a, b = self.msg_part0[i], self.msg_part0[i + 1]
        offs, lens = self.part_off[a:b], self.part_len[a:b]
        return [self.arena[o : o + n].tobytes() for o, n in zip(offs, lens, strict=True)]


class NativeReceiver:
    """Receives batches from ``sock`` with the compiled loop (one thread owns ``sock``)."""

    def __init__(self, sock: zmq.Socket[Any], batch_frames: int, arena_bytes: int = 0) -> None:
        self.sock = sock
        self.batch_frames = batch_frames
        #: Grows (to _MAX_ARENA_BYTES) when messages spill, so large frames stay fast.
        self.arena_bytes = arena_bytes or max(1 << 20, batch_frames * 16384)
        self.max_parts = 8 * batch_frames  # a v1 image has 4; a full header has up to 8
        self._msg = np.zeros(_MSG_BYTES // 8, np.int64)  # zmq_msg_t: 64 bytes, 8-aligned
        self._msg_addr = self._msg.ctypes.data
        lib = ctypes.CDLL(str(c.load_native()["libzmq"]))
        self._data, self._size, self._close = lib.zmq_msg_data, lib.zmq_msg_size, lib.zmq_msg_close
        self._data.restype, self._size.restype = ctypes.c_void_p, ctypes.c_size_t
        self._data.argtypes = self._size.argtypes = self._close.argtypes = [ctypes.c_void_p]

    def receive(self) -> Batch:
        """The messages that are here (none if the socket is empty). A batch that has begun
        waits up to ``_FILL_WAIT_MS`` at a time for more, until full: few large batches
        cost less CPU than many small ones."""
        arena = np.empty(self.arena_bytes, np.uint8)
        part_off = np.empty(self.max_parts, np.int64)
        part_len = np.empty(self.max_parts, np.int64)
        msg_part0 = np.zeros(self.batch_frames + 1, np.int64)
        state = np.zeros(3, np.int64)
        sock = self.sock.underlying
        status = _receive(sock, self._msg_addr, arena, part_off, part_len, msg_part0, state)
        while status == _AGAIN and 0 < state[0] < self.batch_frames:
            if not self.sock.poll(_FILL_WAIT_MS):
                break
            status = _receive(sock, self._msg_addr, arena, part_off, part_len, msg_part0, state)
        batch = Batch(arena, part_off, part_len, msg_part0, int(state[0]))
        if status == _SPILL:
            batch.extra.append(self._spilled(batch, int(state[1])))
            self.arena_bytes = min(2 * self.arena_bytes, max(_MAX_ARENA_BYTES, self.arena_bytes))
        elif status < 0:
            raise zmq.ZMQError(-status)
        return batch

    def _spilled(self, batch: Batch, n_parts: int) -> list[bytes]:
        """The unfinished message: its parts in the arena, the one in ``zmq_msg_t``, and
        the rest from the socket."""
        first = int(batch.msg_part0[batch.n])
        parts = [batch.arena[o : o + m].tobytes()
                 for o, m in zip(batch.part_off[first:n_parts], batch.part_len[first:n_parts],
                                 strict=True)]  # fmt: skip
        size = self._size(self._msg_addr)
        parts.append(ctypes.string_at(self._data(self._msg_addr), size))
        self._close(self._msg_addr)
        while self.sock.getsockopt(zmq.RCVMORE):
            parts.append(self.sock.recv())
        return parts
