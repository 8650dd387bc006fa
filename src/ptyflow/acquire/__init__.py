"""Live acquisition: DECTRIS stream decoders, the receive pipeline, scan assembly, the
daemon and its status endpoint, and a detector emulator.

Run the daemon with :func:`run_daemon` (``ptyflow acquire``) and the emulator with
:func:`emulate` (``ptyflow emulate``). Stream messages decode with :func:`decode_v1` and
:func:`decode_v2` into :class:`SeriesStart`, :class:`Frame`, :class:`SeriesEnd` and
:class:`BadMessage` events.
"""

from ptyflow.acquire._codecs import StreamError, decode_blob, encode_bslz4, encode_lz4
from ptyflow.acquire._daemon import run_daemon
from ptyflow.acquire._emulate import (
    EmulatorPlan,
    FrameSource,
    emulate,
    parse_ids,
    synthetic_frames,
)
from ptyflow.acquire._events import BadMessage, DetectorConfig, Frame, SeriesEnd, SeriesStart
from ptyflow.acquire._status import STATUS_FILE, fetch_status
from ptyflow.acquire._stream_v1 import (
    decode_v1,
    encode_v1_end,
    encode_v1_header,
    encode_v1_image,
)
from ptyflow.acquire._stream_v2 import decode_v2, encode_v2_end, encode_v2_image, encode_v2_start

__all__ = [
    "STATUS_FILE",
    "BadMessage",
    "DetectorConfig",
    "EmulatorPlan",
    "Frame",
    "FrameSource",
    "SeriesEnd",
    "SeriesStart",
    "StreamError",
    "decode_blob",
    "decode_v1",
    "decode_v2",
    "emulate",
    "encode_bslz4",
    "encode_lz4",
    "encode_v1_end",
    "encode_v1_header",
    "encode_v1_image",
    "encode_v2_end",
    "encode_v2_image",
    "encode_v2_start",
    "fetch_status",
    "parse_ids",
    "run_daemon",
    "synthetic_frames",
]
