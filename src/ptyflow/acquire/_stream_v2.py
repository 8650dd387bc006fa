"""DECTRIS SIMPLON stream v2: one CBOR map per message, ``type`` start, image or end.

Image data are ``data: {channel: array}``; an array is tag 40 ``[dims, typed array]``
(row-major ``[rows, cols]``), the typed array an RFC 8746 tag (64 uint8, 69 uint16 LE,
70 uint32 LE) around the bytes or around a DECTRIS compressed byte string, tag 56500
``[algorithm, elem_size, bytes]`` (``bslz4`` or ``lz4``). The first channel is used.
"""

from __future__ import annotations

from typing import Any

import cbor2
import numpy as np
from numpy.typing import NDArray

from ptyflow.acquire._codecs import (
    StreamError,
    decode_blob,
    encode_bslz4,
    encode_lz4,
    require_id,
)
from ptyflow.acquire._events import (
    BadMessage,
    Frame,
    SeriesEnd,
    SeriesStart,
    bad_message,
    jsonable,
    scan_shape_from,
)

__all__ = [
    "decode_v2",
    "encode_v2_data",
    "encode_v2_end",
    "encode_v2_image",
    "encode_v2_start",
    "v2_image_message",
]

_TYPED: dict[int, np.dtype[Any]] = {64: np.dtype("<u1"), 69: np.dtype("<u2"), 70: np.dtype("<u4")}
_TAG_OF = {dt.name: tag for tag, dt in _TYPED.items()}
_MULTI_DIM, _COMPRESSED = 40, 56500
Event = SeriesStart | Frame | SeriesEnd | BadMessage


def _array(value: Any, where: str) -> NDArray[Any]:
    """Decode a tag-40 array whose typed array may hold a tag-56500 compressed string."""
    if not isinstance(value, cbor2.CBORTag) or value.tag != _MULTI_DIM:
        got = f"tag {value.tag}" if isinstance(value, cbor2.CBORTag) else type(value).__name__
        raise StreamError("malformed", f"{where}: expected a tag-40 row-major array, got {got}")
    dims, typed = value.value
    if not (len(dims) == 2 and all(isinstance(n, int) and n > 0 for n in dims)):
        raise StreamError("shape", f"{where}: array dims {list(dims)}, expected [rows, cols] > 0")
    if not isinstance(typed, cbor2.CBORTag) or typed.tag not in _TYPED:
        tag = typed.tag if isinstance(typed, cbor2.CBORTag) else None
        raise StreamError(
            "dtype", f"{where}: typed-array tag {tag}, expected one of {list(_TYPED)}"
        )
    dtype, content = _TYPED[typed.tag], typed.value
    algorithm: str | None = None
    if isinstance(content, cbor2.CBORTag) and content.tag == _COMPRESSED:
        algorithm, elem_size, content = content.value
        if algorithm not in ("bslz4", "lz4"):
            raise StreamError(
                "encoding", f"{where}: compression {algorithm!r}, expected bslz4 or lz4"
            )
        if algorithm == "bslz4" and elem_size != dtype.itemsize:
            raise StreamError("encoding", f"{where}: elem_size {elem_size} for {dtype.name} data")
    if not isinstance(content, bytes):
        raise StreamError(
            "malformed", f"{where}: array content is {type(content).__name__}, not bytes"
        )
    return decode_blob(content, algorithm, dtype, (dims[0], dims[1]), where)


def decode_v2(message: bytes) -> Event:
    """Decode one v2 CBOR message into one event (a BadMessage if it is unusable)."""
    doc: Any = None
    try:
        try:
            doc = cbor2.loads(message)
        except Exception as err:  # cbor2 raises several types for truncated/garbled input
            raise StreamError("malformed", f"not valid CBOR ({err})") from None
        if not isinstance(doc, dict):
            raise StreamError("malformed", f"expected a CBOR map, got {type(doc).__name__}")
        kind = doc.get("type")
        if kind == "image":
            series = require_id(doc, "series_id", "image message")
            frame = require_id(doc, "image_id", f"series {series} image")
            where = f"series {series} frame {frame}"
            data = doc.get("data")
            if not isinstance(data, dict) or not data:
                raise StreamError("malformed", f"{where}: image without a data map")
            return Frame(series, frame, _array(next(iter(data.values())), where))
        if kind == "start":
            series = require_id(doc, "series_id", "start message")
            n = doc.get("number_of_images")
            return SeriesStart(
                series,
                "v2",
                jsonable(doc),
                None,
                n if isinstance(n, int) and n > 0 else None,
                scan_shape_from(doc.get("user_data")),
            )
        if kind == "end":
            return SeriesEnd(require_id(doc, "series_id", "end message"))
        raise StreamError("htype", f"unknown message type {kind!r}")
    except StreamError as err:
        return bad_message(err.reason, str(err), doc, "series_id", "image_id")


# -- encoding (the emulator) -------------------------------------------------------------


def encode_v2_start(
    series: int, n_images: int, config: dict[str, Any], user_data: dict[str, Any]
) -> bytes:
    doc = {
        "type": "start",
        "series_id": series,
        "series_unique_id": f"ptyflow-{series}",
        "number_of_images": n_images,
        "user_data": user_data,
        **config,
    }
    return cbor2.dumps(doc)


def encode_v2_data(
    data: NDArray[Any], algorithm: str | None = "bslz4", blob: bytes | None = None
) -> bytes:
    """The CBOR ``data`` map of an image message; ``blob`` overrides the encoded data."""
    if blob is None:
        encode = {"bslz4": encode_bslz4, "lz4": encode_lz4}.get(algorithm or "")
        blob = encode(data) if encode else data.tobytes()
    content: Any = (
        blob if algorithm is None else cbor2.CBORTag(_COMPRESSED, [algorithm, data.itemsize, blob])
    )
    typed = cbor2.CBORTag(_TAG_OF[data.dtype.name], content)
    return cbor2.dumps({"threshold_1": cbor2.CBORTag(_MULTI_DIM, [list(data.shape), typed])})


def v2_image_message(series: int, frame: int, data_map: bytes) -> bytes:
    """An image message around an encoded ``data`` map (a CBOR map is its entries in a row,
    so only the ids are encoded per frame)."""
    entries = ("type", "image", "series_id", series, "series_unique_id", f"ptyflow-{series}",
               "image_id", frame)  # fmt: skip
    return b"\xa5" + b"".join(map(cbor2.dumps, entries)) + cbor2.dumps("data") + data_map


def encode_v2_image(
    series: int,
    frame: int,
    data: NDArray[Any],
    algorithm: str | None = "bslz4",
    blob: bytes | None = None,
) -> bytes:
    """One image message; ``blob`` overrides the encoded data (fault injection)."""
    return v2_image_message(series, frame, encode_v2_data(data, algorithm, blob))


def encode_v2_end(series: int) -> bytes:
    return cbor2.dumps(
        {"type": "end", "series_id": series, "series_unique_id": f"ptyflow-{series}"}
    )
