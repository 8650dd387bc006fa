"""The writer side in-process: compression of live series, and failures that must not
stop the daemon or touch earlier stores (events fed as the decode workers produce them)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from ptyflow.acquire import (
    encode_v1_end,
    encode_v1_header,
    encode_v1_image,
    synthetic_frames,
)
from ptyflow.acquire._manager import SeriesManager
from ptyflow.acquire._pipeline import decode_batch
from ptyflow.config import load_toml
from ptyflow.config.acquire import AcquireConfig
from ptyflow.dataset import DatasetState, DatasetWriter, open_dataset

ACQUIRE_TOML = Path(__file__).resolve().parents[2] / "configs" / "acquire.toml"
SCAN = (4, 6)


def _config(tmp_path: Path, *overrides: str) -> AcquireConfig:
    return load_toml(
        ACQUIRE_TOML,
        AcquireConfig,
        [
            f"output.directory={tmp_path / 'out'}",
            "output.shard_nav=[2, 3]",
            "output.chunk_nav=[1, 3]",
            f"scan.shape={list(SCAN)}",
            *overrides,
        ],
    )


def _series(manager: SeriesManager, series: int, frames: np.ndarray, batch: int = 7) -> None:
    """Feed one series through decode_batch in batches, as the pipeline does."""
    msgs = [*encode_v1_header(series, {"nimages": len(frames)}, {}, split=True)]
    msgs += [encode_v1_image(series, i, f) for i, f in enumerate(frames)]
    msgs.append(encode_v1_end(series))
    for a in range(0, len(msgs), batch):
        manager.handle(decode_batch("v1", True, manager.compressors, msgs[a : a + batch]))


@pytest.fixture(scope="module")
def frames() -> np.ndarray:
    return synthetic_frames(SCAN[0] * SCAN[1], (32, 32), seed=4)


def test_binned_series_match_a_numpy_reference(tmp_path: Path, frames: np.ndarray) -> None:
    manager = SeriesManager(_config(tmp_path, "compress.kind=bin", "compress.bin.factor=4"))
    _series(manager, 1, frames)
    ds = open_dataset(Path(manager.closed[0]["store"]))
    assert ds.state == DatasetState.COMPLETE and ds.metadata.compression.bin_factor == 4
    reference = frames.astype(np.int64).reshape(-1, 8, 4, 8, 4).sum(axis=(2, 4))
    assert np.array_equal(np.asarray(ds.data_array[...]).reshape(-1, 8, 8), reference)


def test_chunked_decode_and_compress_keeps_every_frame_in_place(
    tmp_path: Path, frames: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers decode and compress a run a few frames at a time: with chunks of 3 frames,
    batches of 11 and bad blobs inside chunks, each frame still lands at its own position
    (compared with numpy) and only the bad ones are missing, counted by reason."""
    from ptyflow.acquire import _decode_batch

    monkeypatch.setattr(_decode_batch, "_CHUNK_BYTES", 3 * frames[0].nbytes)
    manager = SeriesManager(_config(tmp_path, "compress.kind=bin", "compress.bin.factor=4"))
    msgs = [*encode_v1_header(1, {"nimages": len(frames)}, {}, split=True)]
    msgs += [encode_v1_image(1, i, f) for i, f in enumerate(frames)]
    blob = msgs[2 + 4][2]
    msgs[2 + 4][2] = blob[:-1] + bytes([blob[-1] ^ 1])  # frame 4: its hash does not match
    msgs[2 + 10] = encode_v1_image(1, 10, frames[10], blob=blob[:40])  # undecodable
    msgs.append(encode_v1_end(1))
    for a in range(0, len(msgs), 11):
        manager.handle(decode_batch("v1", True, manager.compressors, msgs[a : a + 11]))
    (summary,) = manager.closed
    assert summary["counts"]["malformed"] == {"hash": 1, "undecodable": 1}
    ds = open_dataset(Path(summary["store"]))
    received = ds.frames_received.reshape(-1)
    assert set(np.flatnonzero(~received)) == {4, 10}
    reference = frames.astype(np.int64).reshape(-1, 8, 4, 8, 4).sum(axis=(2, 4))
    stored = np.asarray(ds.data_array[...]).reshape(-1, 8, 8)
    assert np.array_equal(stored[received], reference[received])


def test_virtual_series_match_masks_applied_by_numpy(tmp_path: Path, frames: np.ndarray) -> None:
    manager = SeriesManager(
        _config(tmp_path, "compress.kind=virtual", "detector.pixel_size_inv_A=0.15")
    )
    _series(manager, 1, frames)
    ds = open_dataset(Path(manager.closed[0]["store"]))
    masks = ds.masks
    assert masks is not None and masks.shape == (32, 32, 32)  # 4 rings × 8 segments
    reference = np.einsum("mij,nij->nm", masks.astype(np.float64), frames.astype(np.float64))
    signals = np.asarray(ds.data_array[...]).reshape(-1, 32)
    np.testing.assert_allclose(signals, reference, rtol=1e-6)
    # the live bright-field image the status page shows came from the workers' sums
    assert np.isfinite(ds.live_images["bf"]).all()


def test_a_failing_disk_fails_that_series_only(
    tmp_path: Path, frames: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager = SeriesManager(_config(tmp_path, "compress.kind=none"))
    _series(manager, 1, frames)
    first = Path(manager.closed[0]["store"])
    before = {p: p.read_bytes() for p in first.rglob("*") if p.is_file()}

    calls = {"n": 0}
    real = DatasetWriter.write_frames

    def full_disk(self: DatasetWriter, *args: object, **kwargs: object) -> None:
        calls["n"] += 1
        if calls["n"] > 1:
            raise OSError(28, "No space left on device")
        real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(DatasetWriter, "write_frames", full_disk)
    _series(manager, 2, frames)
    summary = manager.closed[1]
    assert "No space left on device" in summary["error"]
    counts = summary["counts"]
    assert counts["unwritten"] > 0 and counts["received"] + counts["unwritten"] == len(frames)
    failed = open_dataset(Path(summary["store"]))
    assert failed.state == DatasetState.FAILED
    assert failed.frames_received.sum() == summary["counts"]["received"] < frames.shape[0]
    monkeypatch.undo()
    _series(manager, 3, frames)  # the daemon goes on with the next series
    assert open_dataset(Path(manager.closed[2]["store"])).state == DatasetState.COMPLETE
    assert {p: p.read_bytes() for p in first.rglob("*") if p.is_file()} == before


def test_no_scan_shape_skips_the_series_with_a_reason(tmp_path: Path, frames: np.ndarray) -> None:
    cfg = _config(tmp_path, "compress.kind=none")
    manager = SeriesManager(
        cfg.model_copy(update={"scan": cfg.scan.model_copy(update={"shape": None})})
    )
    _series(manager, 5, frames)
    assert manager.closed[0]["store"] is None and "no scan shape" in manager.closed[0]["error"]
    assert manager.stray == {"unopened": frames.shape[0]}  # counted, not mistaken as foreign


def test_silence_closes_a_started_series_but_not_an_armed_one(
    tmp_path: Path, frames: np.ndarray
) -> None:
    manager = SeriesManager(
        _config(tmp_path, "compress.kind=none", "receive.series_timeout_s=0.01")
    )
    header = encode_v1_header(9, {"nimages": len(frames)}, {})
    manager.handle(decode_batch("v1", True, manager.compressors, header))
    time.sleep(0.05)
    manager.tick()  # armed, waiting for its trigger: kept
    assert manager.pending is not None and not manager.closed
    images = [encode_v1_image(9, i, f) for i, f in enumerate(frames[:5])]
    manager.handle(decode_batch("v1", True, manager.compressors, images))
    time.sleep(0.05)
    manager.tick()  # frames began, then silence: the detector stopped mid-series
    (summary,) = manager.closed
    assert summary["closed_because"].startswith("no message for")
    ds = open_dataset(Path(summary["store"]))
    assert ds.state == DatasetState.INCOMPLETE and ds.frames_received.sum() == 5
