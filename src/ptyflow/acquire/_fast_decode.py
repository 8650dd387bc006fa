"""Blobs MD5-checked and decoded straight into a batch of frames by one ``nogil`` kernel.

Decoding calls DECTRIS's own C routine (``compression_decompress_buffer`` in
dectris-compression, the one behind ``dectris.compression.decompress``: single-threaded,
bounds-checked), so the frames are byte-identical to the Python path's. The blobs' MD5s
are computed first, many side by side (``_md5``: SIMD lanes, cheaper than OpenSSL's one
at a time), and compared with the hex digits of each header.
A frame whose hash or blob is wrong is only flagged: the Python decoder then reports why.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from numpy.typing import NDArray

from ptyflow.acquire import _native as c
from ptyflow.acquire._md5 import md5_many

__all__ = ["ALGORITHMS", "decode_into"]

c.load_native()
#: dectris-compression's CompressionAlgorithm values; -1: raw bytes.
ALGORITHMS = {"bslz4": 0, "lz4": 1, None: -1}
_HEX = np.frombuffer(b"0123456789abcdef", np.uint8)


@numba.njit(nogil=True, cache=True)
def _hex_matches(arena: Any, hex_off: Any, digest: Any) -> Any:
    for k in range(16):
        if arena[hex_off + 2 * k] != _HEX[digest[k] >> 4]:
            return False
        if arena[hex_off + 2 * k + 1] != _HEX[digest[k] & 15]:
            return False
    return True


@numba.njit(nogil=True, cache=True)
def _decode(
    arena: Any,
    blob_off: Any,
    blob_len: Any,
    hash_off: Any,
    algorithm: Any,
    elem: Any,
    verify: Any,
    out: Any,
    ok: Any,
) -> Any:
    digests = np.empty((out.shape[0] if verify else 0, 16), np.uint8)
    if verify:
        md5_many(arena, blob_off, blob_len, digests)
    n_bytes = out.shape[1]
    for j in range(out.shape[0]):
        off, n = blob_off[j], blob_len[j]
        if verify and hash_off[j] >= 0 and not _hex_matches(arena, hash_off[j], digests[j]):
            ok[j] = False
        elif algorithm < 0:
            ok[j] = n == n_bytes
            if ok[j]:
                out[j] = arena[off : off + n]
        else:
            size = c.decompress_buffer(algorithm, out[j].ctypes.data, n_bytes,
                                       arena.ctypes.data + off, n, elem)  # fmt: skip
            ok[j] = size == n_bytes


def decode_into(
    arena: NDArray[np.uint8],
    blob_off: NDArray[np.int64],
    blob_len: NDArray[np.int64],
    hash_off: NDArray[np.int64],
    algorithm: str | None,
    verify_hash: bool,
    frames: NDArray[np.generic],
) -> NDArray[np.bool_]:
    """Decode blob ``j`` (``arena[blob_off[j]:][:blob_len[j]]``) into ``frames[j]``,
    checking its MD5 against the hex digits at ``hash_off[j]`` (-1: none) if
    ``verify_hash``; returns which frames succeeded (the others hold garbage)."""
    ok = np.zeros(len(frames), np.bool_)
    out = frames.reshape(len(frames), -1).view(np.uint8)
    _decode(arena, blob_off, blob_len, hash_off, ALGORITHMS[algorithm], frames.itemsize,
            verify_hash, out, ok)  # fmt: skip
    return ok
