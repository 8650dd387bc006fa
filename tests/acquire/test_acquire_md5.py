"""The lane-parallel MD5 the decode workers check blobs with, against ``hashlib``."""

from __future__ import annotations

import hashlib

import numpy as np

from ptyflow.acquire._md5 import md5_many


def test_digests_equal_hashlib_at_every_padding_boundary() -> None:
    """Lengths 0-199 cross each padding case (one or two tail blocks, a full last block);
    longer ones many blocks; messages start at odd offsets, lanes end at different
    blocks, and the count is not a multiple of the lanes."""
    rng = np.random.default_rng(7)
    sizes = [*range(200), 1080, 4096, 65_537]
    messages = [rng.integers(0, 256, n, dtype=np.uint8).tobytes() for n in sizes]
    arena = np.frombuffer(b"\x01\x02\x03" + b"".join(messages), np.uint8)
    size = np.array(sizes, np.int64)
    off = np.cumsum(size) - size + 3
    digests = np.zeros((len(messages), 16), np.uint8)
    md5_many(arena, off, size, digests)
    for j, message in enumerate(messages):
        assert digests[j].tobytes() == hashlib.md5(message).digest(), f"{sizes[j]} bytes"


def test_the_same_bytes_hash_alike_in_any_lane() -> None:
    message = b"The quick brown fox jumps over the lazy dog"
    arena = np.frombuffer(message * 3, np.uint8)
    off = np.array([0, len(message), 2 * len(message)], np.int64)
    digests = np.zeros((3, 16), np.uint8)
    md5_many(arena, off, np.full(3, len(message), np.int64), digests)
    assert {d.tobytes().hex() for d in digests} == {"9e107d9d372bb6826bd81d3542a419d6"}
