"""Detector blob codecs: the bitshuffle-LZ4 ("bslz4") HDF5-filter framing, plain LZ4, raw.

bslz4 framing (the bitshuffle HDF5 filter, as DECTRIS detectors send it): a 12-byte
header (big-endian u64 uncompressed size [bytes], big-endian u32 block size [bytes]),
then per block a big-endian u32 compressed length and an LZ4 block of bitshuffled data.
Decoding uses DECTRIS's ``dectris-compression`` (C, ~4× faster than ``bitshuffle`` and
unaffected by OpenMP oversubscription); encoding (for the emulator) uses ``bitshuffle``,
so its blobs are exactly what the HDF5 filter writes.
"""

from __future__ import annotations

import struct
from typing import Any, Final

import numpy as np
from dectris.compression import decompress
from numpy.typing import NDArray

from ptyflow.errors import PtyflowError

__all__ = [
    "BSLZ4_BLOCK_BYTES",
    "StreamError",
    "decode_blob",
    "encode_bslz4",
    "encode_lz4",
    "require_id",
]

#: bitshuffle's default block: 8 KiB of data (the HDF5 filter's choice with block size 0).
BSLZ4_BLOCK_BYTES: Final = 8192
_HEADER = struct.Struct(">QI")
_BLOCK_LEN = struct.Struct(">I")


class StreamError(PtyflowError):
    """A detector message that cannot be used: malformed, inconsistent or undecodable.

    ``reason`` is a short category (``malformed``, ``encoding``, ``shape``, ``hash``, ...)
    the daemon counts by; the message names the frame and what was expected.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def require_id(doc: dict[Any, Any], key: str, what: str) -> int:
    """``doc[key]`` as a series or frame id (an integer ≥ 0), else StreamError naming it."""
    value = doc.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise StreamError("malformed", f"{what}: '{key}' must be an integer ≥ 0, got {value!r}")
    return value


def encode_bslz4(frame: NDArray[Any]) -> bytes:
    """``frame`` bitshuffled and LZ4-compressed, in the bitshuffle HDF5 filter's framing."""
    import bitshuffle  # only the emulator encodes

    arr = np.ascontiguousarray(frame)
    block_elems = BSLZ4_BLOCK_BYTES // arr.itemsize
    body = bitshuffle.compress_lz4(arr.reshape(-1), block_elems)
    return _HEADER.pack(arr.nbytes, BSLZ4_BLOCK_BYTES) + body.tobytes()


def encode_lz4(frame: NDArray[Any]) -> bytes:
    """``frame`` LZ4-compressed in the HDF5 LZ4 filter's framing (DECTRIS ``lz4<``): the
    same 12-byte header as bslz4, then length-prefixed LZ4 blocks of the raw bytes."""
    import lz4.block  # only the emulator encodes

    raw = np.ascontiguousarray(frame).tobytes()
    parts = [_HEADER.pack(len(raw), BSLZ4_BLOCK_BYTES)]
    for start in range(0, len(raw), BSLZ4_BLOCK_BYTES):
        block = lz4.block.compress(raw[start : start + BSLZ4_BLOCK_BYTES], store_size=False)
        parts += [_BLOCK_LEN.pack(len(block)), block]
    return b"".join(parts)


def decode_blob(
    blob: Any, algorithm: str | None, dtype: np.dtype[Any], shape: tuple[int, int], where: str
) -> NDArray[Any]:
    """Decode ``blob`` (``bslz4``, ``lz4`` or ``None`` for raw) into a ``shape`` array.

    Raises StreamError naming ``where`` (the frame) if the blob is truncated, undecodable
    or of the wrong size.
    """
    n_bytes = shape[0] * shape[1] * dtype.itemsize
    if algorithm is None:
        raw: Any = blob
    else:
        try:
            raw = decompress(blob, algorithm, elem_size=dtype.itemsize)
        except Exception as err:  # the C decoder raises plain RuntimeError/ValueError
            raise StreamError(
                "undecodable", f"{where}: {algorithm} blob undecodable: {err}"
            ) from None
    if len(raw) != n_bytes:
        raise StreamError(
            "size",
            f"{where}: decoded {len(raw)} bytes, expected {n_bytes} "
            f"({shape[0]}×{shape[1]} {dtype.name})",
        )
    return np.frombuffer(raw, dtype=dtype).reshape(shape)
