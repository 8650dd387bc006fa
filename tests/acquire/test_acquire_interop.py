"""Interoperability with a third-party sender: LiberTEM's DECTRIS simulator (Rust,
``libertem-dectris``) replaying a recorded stream into the daemon, over tcp."""

from __future__ import annotations

import hashlib
import json
import struct
import subprocess
import threading
from pathlib import Path

import bitshuffle.h5
import h5py
import numpy as np
import pytest

from ptyflow.dataset import DatasetState, open_dataset

from .conftest import Daemon

ld = pytest.importorskip("libertem_dectris", reason="libertem-dectris (dev extra) not installed")


def _filter_blobs(frames: np.ndarray, tmp_path: Path) -> list[bytes]:
    """bslz4 blobs as the bitshuffle HDF5 filter writes them (independent of ptyflow)."""
    with h5py.File(tmp_path / "frames.h5", "w") as f:
        d = f.create_dataset(
            "x",
            data=frames,
            chunks=(1, *frames.shape[1:]),
            compression=bitshuffle.h5.H5FILTER,
            compression_opts=(0, bitshuffle.h5.H5_COMPRESS_LZ4),
        )
        return [bytes(d.id.read_direct_chunk((i, 0, 0))[1]) for i in range(len(frames))]


def _recording(frames: np.ndarray, blobs: list[bytes], series: int) -> bytes:
    """A stream v1 recording in the simulator's dump format (each part: le-i64 size, bytes),
    its JSON written by hand from the SIMPLON spec."""
    n, rows, cols = frames.shape
    config = {
        "nimages": n,
        "ntrigger": 1,
        "trigger_mode": "exts",
        "x_pixels_in_detector": cols,
        "y_pixels_in_detector": rows,
        "bit_depth_image": 16,
        "detector_number": "E-32-0123",
        "description": "Dectris ARINA Si",
    }
    parts = [
        {"htype": "dheader-1.0", "series": series, "header_detail": "basic"},
        config,
    ]
    raw = [json.dumps(p).encode() for p in parts]
    for i, blob in enumerate(blobs):
        raw += [
            json.dumps(
                {
                    "htype": "dimage-1.0",
                    "series": series,
                    "frame": i,
                    "hash": hashlib.md5(blob).hexdigest(),
                }
            ).encode(),
            json.dumps(
                {
                    "htype": "dimage_d-1.0",
                    "shape": [cols, rows],
                    "type": "uint16",
                    "encoding": "bs16-lz4<",
                    "size": len(blob),
                }
            ).encode(),
            blob,
            json.dumps(
                {
                    "htype": "dconfig-1.0",
                    "start_time": i * 1000,
                    "stop_time": i * 1000 + 900,
                    "real_time": 900,
                }
            ).encode(),
        ]
    raw.append(json.dumps({"htype": "dseries_end-1.0", "series": series}).encode())
    return b"".join(struct.pack("<q", len(p)) + p for p in raw)


def test_libertem_dectris_simulator_replays_a_recording_into_the_daemon(
    tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    frames = np.random.default_rng(5).poisson(0.7, (12, 24, 40)).astype(np.uint16)
    dump = tmp_path / "stream.dump"
    dump.write_bytes(_recording(frames, _filter_blobs(frames, tmp_path), series=42))
    sim = ld.DectrisSim("tcp://127.0.0.1", str(dump), random_port=True)
    daemon = Daemon(tmp_path, sim.get_uri(), "v1", "shape = [3, 4]")
    processes.append(daemon.proc)

    def replay() -> None:
        sim.send_headers()
        sim.send_frames()
        sim.send_footer()

    sender = threading.Thread(target=replay, daemon=True)
    sender.start()
    daemon.wait_closed(1)
    sender.join(timeout=30)
    daemon.stop()
    ds = open_dataset(daemon.out / "series-000042.zarr")
    assert ds.state == DatasetState.COMPLETE
    assert np.array_equal(np.asarray(ds.data_array[...]), frames.reshape(3, 4, 24, 40))
    det = ds.metadata.acquisition.detector
    assert (det.name, det.serial, det.shape) == ("Dectris ARINA Si", "E-32-0123", (24, 40))
