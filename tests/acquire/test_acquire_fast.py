"""The compiled receive path against the Python one: same events, same frames, same faults.

- ``decode_into`` (DECTRIS's C decoder and OpenSSL's MD5, called from Numba) is checked
  byte for byte against ``dectris.compression`` and the source frames;
- ``decode_batch`` (compiled v1 parser + decoder, Python for the rest) must give exactly
  what ``decode_v1`` gives message by message, for every fault the emulator injects and
  for hand-made JSON edge cases;
- ``NativeReceiver`` (libzmq from Numba) over a real tcp socket, including messages too
  large for its arena.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

import numpy as np
import pytest
import zmq
from dectris.compression import decompress

from ptyflow.acquire import BadMessage, Frame, decode_v1, encode_bslz4, encode_lz4
from ptyflow.acquire._emulate import EmulatorPlan, FrameSource, _Encoder, synthetic_frames
from ptyflow.acquire._events import FrameBlock
from ptyflow.acquire._fast_decode import decode_into
from ptyflow.acquire._fast_v1 import FAST, Layouts, classify
from ptyflow.acquire._native_zmq import Batch, NativeReceiver
from ptyflow.acquire._pipeline import decode_batch

RNG = np.random.default_rng(11)
ENCODERS = {"bslz4": encode_bslz4, "lz4": encode_lz4, None: lambda a: a.tobytes()}


def _sparse(shape: tuple[int, int], dtype: Any) -> np.ndarray:
    counts = RNG.poisson(0.4, shape) * RNG.integers(1, np.iinfo(dtype).max // 4, shape)
    return counts.astype(dtype)


def _decode_one(blob: bytes, algorithm: str | None, like: np.ndarray, digest: bytes | None):
    arena = np.frombuffer(blob + (digest or b""), np.uint8).copy()
    out = np.full((1, *like.shape), 7, like.dtype)
    hash_off = np.array([len(blob) if digest else -1])
    ok = decode_into(arena, np.array([0]), np.array([len(blob)]), hash_off, algorithm,
                     digest is not None, out)  # fmt: skip
    return bool(ok[0]), out[0]


@pytest.mark.parametrize("algorithm", ["bslz4", "lz4", None])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint32])
def test_compiled_decoder_is_byte_identical_to_dectris_compression(algorithm, dtype) -> None:
    # sizes around the 8-element and 8 KiB block boundaries, and odd ones
    for shape in [(1, 1), (1, 7), (3, 3), (8, 8), (17, 33), (64, 129), (96, 96), (5, 1000)]:
        frame = _sparse(shape, dtype)
        blob = ENCODERS[algorithm](frame)
        digest = hashlib.md5(blob).hexdigest().encode()
        ok, out = _decode_one(blob, algorithm, frame, digest)
        assert ok, (algorithm, dtype, shape)
        if algorithm is not None:
            ref = decompress(blob, algorithm, elem_size=frame.itemsize)
            assert out.tobytes() == ref, (algorithm, dtype, shape)
        np.testing.assert_array_equal(out, frame)


def test_corrupt_truncated_and_mislabelled_blobs_fail_only_their_frame() -> None:
    frame = _sparse((96, 96), np.uint16)
    blob = encode_bslz4(frame)
    digest = hashlib.md5(blob).hexdigest().encode()
    bad_blobs = [
        blob[:5],  # shorter than the header
        blob[:12],  # header only
        blob[: len(blob) // 2],  # truncated mid-block
        blob[:-1],  # the last byte missing
        blob[:12] + bytes(reversed(blob[12:])),  # scrambled blocks
        blob[:8] + b"\0\0\0\x07" + blob[12:],  # block size not a multiple of 8 elements
        (10**12).to_bytes(8, "big") + blob[8:],  # announces a huge frame
        b"\0" * len(blob),
    ]
    for bad in bad_blobs:
        ok, _ = _decode_one(bad, "bslz4", frame, None)
        assert not ok, bad[:16]
        # never a write outside its frame: a guard frame after it is untouched
        arena = np.frombuffer(bad or b"\0", np.uint8).copy()
        out = np.full((2, 96, 96), 7, np.uint16)
        decode_into(arena, np.array([0, 0]), np.array([len(bad)] * 2), np.array([-1, -1]),
                    "bslz4", False, out[:1])  # fmt: skip
        assert (out[1] == 7).all()
    ok, _ = _decode_one(blob, "bslz4", frame, digest.upper())  # hex case matters, as in Python
    assert not ok
    ok, _ = _decode_one(blob, None, frame, None)  # a bslz4 blob announced as raw
    assert not ok


def _expand(events: list[Any]) -> list[Any]:
    """Frame-level view of events: blocks become (series, frame, pixels) per frame."""
    out: list[Any] = []
    for ev in events:
        if isinstance(ev, FrameBlock):
            assert ev.compressor is None
            pixels = [d.tobytes() for d in ev.data]
            out += [("frame", ev.series, int(i), d) for i, d in zip(ev.ids, pixels, strict=True)]
        elif isinstance(ev, Frame):
            out.append(("frame", ev.series, ev.frame, ev.data.tobytes()))
        else:
            out.append(ev)
    return out


def _assert_same_as_python(messages: list[list[bytes]], verify_hash: bool = True) -> list[Any]:
    expected = _expand([decode_v1(m, verify_hash) for m in messages])
    for batch_frames in (1, 5, 64):  # batch boundaries fall everywhere
        got: list[Any] = []
        for a in range(0, len(messages), batch_frames):
            got += decode_batch("v1", verify_hash, {}, messages[a : a + batch_frames])
        assert _expand(got) == expected
    return expected


@pytest.mark.parametrize("encoding", ["bslz4", "lz4", "raw"])
def test_every_emulator_fault_decodes_as_in_python(encoding: str) -> None:
    frames = synthetic_frames(6, (24, 20))
    source = FrameSource(frames, (2, 3))
    plan = EmulatorPlan(encoding=encoding, drop=frozenset({1}), duplicate=frozenset({2}),
                        reorder=frozenset({3}), corrupt=frozenset({4, 9}),
                        malformed=frozenset({5}), n_time=2)  # fmt: skip
    enc = _Encoder(source, plan, 3)
    messages = [*enc.header(), *(enc.image(f) for f in plan.order(enc.n_frames)), enc.end()]
    messages.insert(2, [b"\xff not a header"])
    restart = _Encoder(source, EmulatorPlan(encoding=encoding), 4)  # a new series, mid-batch
    messages += [*restart.header(), *(restart.image(f) for f in range(4))]
    events = _assert_same_as_python(messages)
    kind = classify(Batch.of(messages), Layouts())[1]
    # every image but the malformed one took the fast path (the decoder finds the corrupt)
    assert (kind == FAST).sum() == 12 - 1 + 1 - 1 + 4
    reasons = sorted(ev.reason for ev in events if isinstance(ev, BadMessage))
    # the garbage and the malformed dimage_d; two corrupt blobs (raw ones: a wrong size)
    assert reasons[:2] == ["malformed", "malformed"] and len(reasons) == 4
    assert set(reasons[2:]) == {"size" if encoding == "raw" else "undecodable"}
    assert sum(1 for ev in events if isinstance(ev, tuple)) == 12 - 1 + 1 - 3 + 4


def _image(head: bytes, desc: dict[str, Any] | bytes, blob: bytes, n_parts: int = 4) -> list[bytes]:
    d = desc if isinstance(desc, bytes) else json.dumps(desc).encode()
    return [head, d, blob, b'{"htype": "dconfig-1.0"}', b"extra"][:n_parts]


def test_json_edge_cases_decode_as_in_python() -> None:
    frame = _sparse((6, 10), np.uint16)
    blob = encode_bslz4(frame)
    md5 = hashlib.md5(blob).hexdigest()
    desc = {"htype": "dimage_d-1.0", "shape": [10, 6], "type": "uint16",
            "encoding": "bs16-lz4<", "size": len(blob)}  # fmt: skip
    good = b'{"htype":"dimage-1.0","series":2,"frame":%d,"hash":"%s"}'
    heads = [
        good % (0, md5.encode()),
        b' {\n "frame" : 1 , "series":2,"hash":"%s","htype":"dimage-1.0"} ' % md5.encode(),
        b'{"htype":"dimage-1.0","series":2,"frame":2,"hash":"","x":7,"y":"z"}',
        b'{"htype":"dimage-1.0","series":2,"frame":3}',
        b'{"htype":"dimage-1.0","series":2,"frame":4,"hash":"%s"}' % md5.upper().encode(),
        b'{"htype":"dimage-1.0","series":2,"frame":5,"hash":"%s"}' % (b"0" * 32),
        b'{"htype":"dimage-1.0","series":2,"frame":6,"hash":null}',
        b'{"htype":"dimage-1.0","series":2,"frame":7,"hash":5}',
        b'{"htype":"dimage-1.0","series":2,"frame":8.0}',
        b'{"htype":"dimage-1.0","series":2,"frame":-9}',
        b'{"htype":"dimage-1.0","series":2,"frame":010}',
        b'{"htype":"dimage-1.0","series":2,"frame":11,"frame":12}',
        b'{"htype":"dimage-1.0","series":"2","frame":13}',
        b'{"htype":"dimage-1.1","series":2,"frame":14}',
        b'{"htype":"dimage\\u002d1.0","series":2,"frame":15}',
        b'{"htype":"dimage-1.0","series":2,"frame":16,"n\xc3\xa9":1}',
        b'{"htype":"dimage-1.0","series":2,"frame":17} x',
        b'{"htype":"dimage-1.0","series":2,"frame":18',
        b'{"htype":"dimage-1.0","series":2,"frame":123456789012345678901}',
        b'{"htype":"dimage-1.0","series":2,"frame":20,"nested":{"a":1}}',
        b'[1, 2]',
        b'{"htype":"dimage-1.0","series":2,"frame":true}',
    ]  # fmt: skip
    messages = [_image(h, desc, blob) for h in heads]
    head = good % (30, md5.encode())
    messages += [
        _image(head, desc, blob, 3),
        _image(head, desc, blob, 5),
        _image(head, {**desc, "size": len(blob) + 1}, blob),
        _image(head, {k: v for k, v in desc.items() if k != "size"}, blob),
        _image(head, {**desc, "shape": [6, 10]}, blob),  # width first: wrong
        _image(head, {**desc, "type": "uint8"}, blob),
        _image(head, {**desc, "encoding": "bs32-lz4<"}, blob),
        _image(head, {**desc, "encoding": "zstd"}, blob),
        _image(head, json.dumps(desc).encode()[:-1], blob),
        _image(head, json.dumps(desc).encode().replace(b'"size": ', b'"size": 0'), blob),
        _image(head, json.dumps(desc, indent=1).encode(), blob),
        _image(head, {**desc, "size": str(len(blob))}, blob),
        _image(head, desc, blob[:-3]),  # the size part no longer fits the blob
        _image(head, desc, blob),
    ]
    fast = np.flatnonzero(classify(Batch.of(messages), Layouts())[1] == FAST).tolist()
    # the rest went to decode_v1; 32 too: the 9th new dimage_d in one batch is not tried
    assert fast == [0, 1, 2, 3, 4, 5, 25, 26, 35]
    for verify_hash in (True, False):
        events = _assert_same_as_python(messages, verify_hash)
        frames = [i for i, ev in enumerate(events) if isinstance(ev, tuple)]  # one per message
        hashed = [] if verify_hash else [4, 5, 7]  # upper case, wrong, not a string
        assert frames == sorted([0, 1, 2, 3, 6, 11, 13, 14, 15, 19, 25, 26, 32, 35, *hashed])


def test_native_receiver_takes_batches_and_spills_large_messages() -> None:
    ctx = zmq.Context.instance()
    push, pull = ctx.socket(zmq.PUSH), ctx.socket(zmq.PULL)
    try:
        port = push.bind_to_random_port("tcp://127.0.0.1")
        pull.connect(f"tcp://127.0.0.1:{port}")
        receiver = NativeReceiver(pull, batch_frames=4, arena_bytes=1000)
        assert len(receiver.receive()) == 0  # nothing there: returns at once
        sent = [[b"m%d" % i, b"x" * i] for i in range(6)]
        sent += [[b"big", b"y" * 3000, b"tail"], [b"many", *[b"p"] * 40], [b"last"]]
        for msg in sent:
            push.send_multipart(msg)
        got: list[list[bytes]] = []
        deadline = time.monotonic() + 30
        while len(got) < len(sent) and time.monotonic() < deadline:
            pull.poll(100)
            batch = receiver.receive()
            assert len(batch) <= 4 + 1
            got += [batch.parts(i) for i in range(len(batch))]
        assert got == sent
        assert receiver.arena_bytes > 1000  # it grew after the spill
    finally:
        push.close(0)
        pull.close(0)


def test_batch_of_messages_round_trips() -> None:
    msgs = [[b"a", b""], [b"bc"], [b"", b"d", b"e"]]
    batch = Batch.of(msgs)
    assert [batch.parts(i) for i in range(len(batch))] == msgs


def test_a_missing_library_is_named_with_where_it_was_looked_for() -> None:
    from ptyflow.acquire._native import _find
    from ptyflow.errors import PtyflowError

    with pytest.raises(PtyflowError, match=r"pyzmq's libzmq.*libnothing\*.*/nowhere/libzmq\*"):
        _find("libnothing", ["/nowhere/libzmq*.so*"], "pyzmq's libzmq")


@pytest.mark.parametrize("faults", [{}, {"corrupt": frozenset({3}), "malformed": frozenset({5})}])
def test_emulator_batches_hold_exactly_its_messages(faults: dict[str, Any]) -> None:
    """Flat out, the emulator builds a chunk's batch with shared parts stored once; the
    messages must be byte for byte those it sends one by one, faults included."""
    source = FrameSource(synthetic_frames(4, (8, 8)), (3, 5))
    enc = _Encoder(source, EmulatorPlan(**faults), series=7)
    frames = [0, 1, 2, 3, 4, 5, 6, 9, 13, 2]
    batch = enc.images(frames)
    assert [batch.parts(i) for i in range(len(batch))] == [enc.image(f) for f in frames]
