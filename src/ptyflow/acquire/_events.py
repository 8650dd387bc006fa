"""What the stream decoders turn detector messages into: series starts and ends, decoded
frames, detector configs, and bad messages (with the reason the daemon counts them by)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "BadMessage",
    "DetectorConfig",
    "Frame",
    "FrameBlock",
    "SeriesEnd",
    "SeriesStart",
    "bad_message",
    "jsonable",
    "scan_shape_from",
]


@dataclass(frozen=True)
class SeriesStart:
    """A series header: its id, the raw header (JSON-safe), and what it announces."""

    series: int
    protocol: str  # "v1" or "v2"
    header: dict[str, Any]
    config: dict[str, Any] | None  # the detector config, when it came with the header
    n_images: int | None  # images the detector will send, when the header says
    scan_shape: tuple[int, int] | None  # from user data {"ptyflow": {"scan_shape": [ny, nx]}}


@dataclass(frozen=True)
class DetectorConfig:
    """A v1 detector-config part sent as its own message after the header."""

    config: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded image: its series, frame id (0-based) and pixels ``(rows, cols)``."""

    series: int
    frame: int
    data: NDArray[Any]


@dataclass(frozen=True, slots=True)
class FrameBlock:
    """Consecutive decoded frames of one series, stacked: how frames travel to the writer.

    ``data`` holds raw frames ``(n, rows, cols)`` until a worker compressed them with the
    series' compressor: then ``compressor`` is that compressor, ``data`` its output and
    ``live`` ``(n, 5)`` the live-image sums (``ptyflow.compress.LIVE_SUMS``).
    """

    series: int
    ids: NDArray[np.int64]
    data: NDArray[Any]
    live: NDArray[np.float64] | None = None
    compressor: Any = None


@dataclass(frozen=True)
class SeriesEnd:
    series: int


@dataclass(frozen=True, slots=True)
class BadMessage:
    """A message that could not be used; ``frame`` is set when it was an image."""

    reason: str
    message: str
    series: int | None = None
    frame: int | None = None


def bad_message(reason: str, message: str, doc: Any, series_key: str, frame_key: str) -> BadMessage:
    """A BadMessage carrying the series and frame ids ``doc`` names, where it names them."""
    ids = [doc.get(k) if isinstance(doc, dict) else None for k in (series_key, frame_key)]
    series, frame = (i if isinstance(i, int) and not isinstance(i, bool) else None for i in ids)
    return BadMessage(reason, message, series, frame)


def jsonable(value: Any) -> Any:
    """``value`` made JSON-safe for provenance: arrays and bytes become short descriptions."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        if len(raw) <= 64:
            return {"bytes_b64": base64.b64encode(raw).decode()}
        return {"bytes": len(raw)}
    if isinstance(value, np.ndarray):
        return {"array_shape": list(value.shape), "dtype": value.dtype.name}
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value


def scan_shape_from(user_data: Any) -> tuple[int, int] | None:
    """The scan shape a sender put in the header's user data, if any (JSON text or a map)."""
    if isinstance(user_data, str | bytes):
        try:
            user_data = json.loads(user_data)
        except ValueError:
            return None
    if not isinstance(user_data, dict) or not isinstance(user_data.get("ptyflow"), dict):
        return None
    shape = user_data["ptyflow"].get("scan_shape")
    if (
        isinstance(shape, list | tuple)
        and len(shape) == 2
        and all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in shape)
    ):
        return (int(shape[0]), int(shape[1]))
    return None
