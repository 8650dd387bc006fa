"""Blob codecs and the stream v1/v2 decoders, against independent encoders and the spec."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import bitshuffle.h5
import cbor2
import h5py
import numpy as np
import pytest

from ptyflow.acquire import (
    BadMessage,
    DetectorConfig,
    Frame,
    SeriesEnd,
    SeriesStart,
    StreamError,
    decode_blob,
    decode_v1,
    decode_v2,
    encode_bslz4,
    encode_lz4,
    encode_v1_header,
    encode_v1_image,
    encode_v2_image,
    encode_v2_start,
)

RNG = np.random.default_rng(7)


def _hdf5_filter_chunk(frame: np.ndarray, tmp_path: Path) -> bytes:
    """What the bitshuffle HDF5 filter (LZ4, automatic block size) writes for ``frame``."""
    with h5py.File(tmp_path / "f.h5", "w") as f:
        d = f.create_dataset(
            "x",
            shape=(1, *frame.shape),
            dtype=frame.dtype,
            chunks=(1, *frame.shape),
            compression=bitshuffle.h5.H5FILTER,
            compression_opts=(0, bitshuffle.h5.H5_COMPRESS_LZ4),
        )
        d[0] = frame
        return bytes(d.id.read_direct_chunk((0, 0, 0))[1])


@pytest.mark.parametrize(
    ("dtype", "shape"),
    [("uint8", (96, 96)), ("uint16", (96, 96)), ("uint16", (37, 53)), ("uint32", (130, 70))],
)
def test_bslz4_blobs_are_byte_identical_to_the_hdf5_filter(
    tmp_path: Path, dtype: str, shape: tuple[int, int]
) -> None:
    frame = RNG.poisson(0.4, shape).astype(dtype)
    frame[::7, ::5] = np.iinfo(dtype).max  # high bits set too
    blob = encode_bslz4(frame)
    assert blob == _hdf5_filter_chunk(frame, tmp_path)
    assert np.array_equal(decode_blob(blob, "bslz4", frame.dtype, shape, "f"), frame)


def test_lz4_and_raw_round_trip_and_bad_blobs_name_the_frame() -> None:
    frame = RNG.poisson(3.0, (20, 30)).astype(np.uint32)
    assert np.array_equal(decode_blob(encode_lz4(frame), "lz4", frame.dtype, (20, 30), "f"), frame)
    assert np.array_equal(decode_blob(frame.tobytes(), None, frame.dtype, (20, 30), "f"), frame)
    blob = encode_bslz4(frame)
    with pytest.raises(StreamError, match="frame 9") as err:
        decode_blob(blob[: len(blob) // 2], "bslz4", frame.dtype, (20, 30), "frame 9")
    assert err.value.reason == "undecodable"
    with pytest.raises(StreamError, match="expected 2400") as err:
        decode_blob(frame.tobytes()[:-4], None, frame.dtype, (20, 30), "frame 9")
    assert err.value.reason == "size"


def test_v1_image_shape_is_width_first() -> None:
    frame = RNG.poisson(1.0, (6, 5)).astype(np.uint16)  # 6 rows, 5 columns
    parts = encode_v1_image(2, 11, frame)
    assert json.loads(parts[1])["shape"] == [5, 6]  # [x, y]
    ev = decode_v1(parts)
    assert isinstance(ev, Frame) and (ev.series, ev.frame) == (2, 11)
    assert np.array_equal(ev.data, frame)


def test_v2_arrays_are_row_major_rows_cols() -> None:
    frame = RNG.poisson(1.0, (6, 5)).astype(np.uint8)
    for algorithm in ("bslz4", "lz4", None):
        ev = decode_v2(encode_v2_image(4, 3, frame, algorithm))
        assert isinstance(ev, Frame) and np.array_equal(ev.data, frame)


def test_v2_message_written_by_hand_from_the_spec() -> None:
    frame = RNG.poisson(1.0, (4, 8)).astype(np.uint16)
    typed = cbor2.CBORTag(69, cbor2.CBORTag(56500, ["bslz4", 2, encode_bslz4(frame)]))
    msg = cbor2.dumps(
        {
            "type": "image",
            "series_id": 1,
            "image_id": 0,
            "data": {"threshold_1": cbor2.CBORTag(40, [[4, 8], typed])},
        }
    )
    ev = decode_v2(msg)
    assert isinstance(ev, Frame) and np.array_equal(ev.data, frame)
    column_major = msg.replace(b"\xd8\x28", b"\xd9\x04\x10")  # tag 40 → tag 1040
    bad = decode_v2(column_major)
    assert isinstance(bad, BadMessage) and "row-major" in bad.message and bad.frame == 0


def test_headers_announce_images_and_scan_shape_both_framings() -> None:
    user = {"ptyflow": {"scan_shape": [3, 4]}}
    (one,) = encode_v1_header(5, {"nimages": 6, "ntrigger": 2}, user)
    start = decode_v1(one)
    assert isinstance(start, SeriesStart)
    assert (start.series, start.n_images, start.scan_shape) == (5, 12, (3, 4))
    head, cfg = encode_v1_header(5, {"nimages": 6, "ntrigger": 2}, user, split=True)
    assert isinstance(decode_v1(head), SeriesStart) and decode_v1(head).config is None  # type: ignore[union-attr]
    assert decode_v1(cfg) == DetectorConfig({"nimages": 6, "ntrigger": 2})
    v2 = decode_v2(encode_v2_start(5, 12, {}, user))
    assert isinstance(v2, SeriesStart) and (v2.n_images, v2.scan_shape) == (12, (3, 4))
    assert decode_v1([b'{"htype": "dseries_end-1.0", "series": 5}']) == SeriesEnd(5)


def _v1(frame: np.ndarray, **changes: object) -> list[bytes]:
    parts = encode_v1_image(1, 8, frame)
    head, desc = json.loads(parts[0]), json.loads(parts[1])
    for key, value in changes.items():
        (head if key == "hash" else desc)[key] = value
    return [json.dumps(head).encode(), json.dumps(desc).encode(), *parts[2:]]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"encoding": "bs16-zstd<"}, "encoding"),
        ({"encoding": "bs32-lz4<"}, "encoding"),  # does not fit uint16
        ({"type": "float32"}, "dtype"),
        ({"shape": [5]}, "shape"),
        ({"shape": [4, 4]}, "size"),  # decodes to the wrong number of bytes
        ({"hash": hashlib.md5(b"other").hexdigest()}, "hash"),
        ({"size": 3}, "size"),
    ],
)
def test_v1_bad_images_are_named_and_categorised(changes: dict[str, object], reason: str) -> None:
    ev = decode_v1(_v1(RNG.poisson(1.0, (6, 5)).astype(np.uint16), **changes))
    assert isinstance(ev, BadMessage)
    assert (ev.reason, ev.series, ev.frame) == (reason, 1, 8)
    assert "series 1 frame 8" in ev.message


@pytest.mark.parametrize(
    ("parts", "reason"),
    [
        ([b"{not json"], "malformed"),
        ([b'{"htype": "dimage-9", "series": 1}'], "malformed"),  # no frame id
        ([b'{"htype": "dsomething-1.0"}'], "htype"),
        ([b"[1, 2]"], "malformed"),
    ],
)
def test_v1_malformed_messages(parts: list[bytes], reason: str) -> None:
    ev = decode_v1(parts)
    assert isinstance(ev, BadMessage) and ev.reason == reason


def test_v2_malformed_messages() -> None:
    frame = RNG.poisson(1.0, (6, 5)).astype(np.uint16)
    msg = encode_v2_image(1, 2, frame)
    assert decode_v2(msg[: len(msg) // 2]).reason == "malformed"  # type: ignore[union-attr]
    assert decode_v2(cbor2.dumps({"type": "weird"})).reason == "htype"  # type: ignore[union-attr]
    float_tag = cbor2.dumps(
        {
            "type": "image",
            "series_id": 1,
            "image_id": 2,
            "data": {
                "t": cbor2.CBORTag(40, [[6, 5], cbor2.CBORTag(85, frame.astype("<f4").tobytes())])
            },
        }
    )
    bad = decode_v2(float_tag)
    assert isinstance(bad, BadMessage) and (bad.reason, bad.frame) == ("dtype", 2)
