"""Writing a store and reading it back: values, metadata, states, gaps, order, layout."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from ptyflow.dataset import (
    Compression,
    DatasetState,
    create_dataset,
    open_dataset,
    validate_dataset,
)
from ptyflow.dataset._chunk_files import ChunkFiles
from ptyflow.errors import DatasetError
from ptyflow.provenance import tree_hash


def test_full_round_trip(tmp_path: Path, make_metadata, make_frames, write_store) -> None:
    md = make_metadata(scan_shape=(10, 13))
    frames = make_frames((10, 13), (16, 16))
    store = write_store(tmp_path / "s.zarr", md, frames, shard_nav=(8, 8), chunk_nav=(4, 4))

    ds = open_dataset(store)
    assert ds.state is DatasetState.COMPLETE
    assert ds.nav_shape == (10, 13) and ds.frame_shape == (16, 16) and ds.dtype == np.uint16
    assert ds.metadata.acquisition == md.acquisition.model_copy(
        update={"finished_utc": ds.metadata.acquisition.finished_utc}
    )
    assert ds.metadata.acquisition.finished_utc is not None
    assert ds.frames_received.all() and ds.n_missing == 0 and ds.missing_indices() == []
    got = dict(ds.iter_frames())
    assert len(got) == 130
    for (iy, ix), frame in got.items():
        np.testing.assert_array_equal(frame, frames[iy * 13 + ix])
    np.testing.assert_array_equal(ds.read_frame((9, 12)), frames[-1])
    np.testing.assert_array_equal(ds.read_frame(14), frames[14])
    assert ds.compression_ratio > 1.0
    assert ds.manifest is not None and "data/zarr.json" in ds.manifest
    assert validate_dataset(store, verify_checksums=True) == []


def test_arrays_carry_dimension_names_and_axis_units(
    tmp_path, make_metadata, make_frames, write_store
):
    md = make_metadata(scan_shape=(4, 4))
    store = write_store(tmp_path / "s.zarr", md, make_frames((4, 4), (16, 16)))
    meta = json.loads((store / "data" / "zarr.json").read_text())
    assert meta["dimension_names"] == ["scan_y", "scan_x", "ky", "kx"]
    axes = {a["name"]: a for a in meta["attributes"]["ptyflow"]["axes"]}
    assert axes["scan_x"] == {"name": "scan_x", "units": "Å", "sampling": 0.4, "offset": 0.0}
    assert axes["ky"]["units"] == "1/Å" and axes["ky"]["sampling"] == 0.1
    assert axes["ky"]["offset"] == pytest.approx(-8 * 0.1)  # k = 0 at pixel 8
    bf = json.loads((store / "live" / "bf" / "zarr.json").read_text())
    assert bf["dimension_names"] == ["scan_y", "scan_x"] and bf["data_type"] == "float32"


def test_missing_frame_stays_marked_missing(tmp_path, make_metadata, make_frames, write_store):
    md = make_metadata(scan_shape=(6, 7))
    frames = make_frames((6, 7), (16, 16))
    store = write_store(tmp_path / "s.zarr", md, frames, skip=(10,))  # (1, 3)

    ds = open_dataset(store)
    assert ds.state is DatasetState.INCOMPLETE
    assert not ds.frames_received[1, 3] and ds.n_missing == 1
    assert ds.missing_indices() == [(1, 3)]
    assert (1, 3) not in dict(ds.iter_frames()) and len(list(ds.iter_frames())) == 41
    with pytest.raises(DatasetError, match=r"frame \(1, 3\) was not received"):
        ds.read_frame((1, 3))
    for name, image in ds.live_images.items():
        assert np.isnan(image[1, 3]), name
        assert np.isfinite(ds.live_images["bf"][0, 0])
    (nav, block, received), *_ = ds.iter_chunks()
    assert nav == (slice(0, 6), slice(0, 7)) and block.shape == (6, 7, 16, 16)
    assert not received[1, 3] and received.sum() == received.size - 1
    assert validate_dataset(store, verify_checksums=True) == []  # incomplete is a valid state


def test_out_of_order_and_gappy_writes(tmp_path, make_metadata, make_frames) -> None:
    md = make_metadata(scan_shape=(12, 12))
    frames = make_frames((12, 12), (16, 16))
    runs = [(a, min(a + 5, 144)) for a in range(0, 144, 5)]
    np.random.default_rng(3).shuffle(runs)
    with create_dataset(
        tmp_path / "s.zarr", md, dtype=np.uint16, shard_nav=(4, 4), chunk_nav=(2, 2)
    ) as w:
        for a, b in runs:
            w.write_frames(a, frames[a:b])
    ds = open_dataset(tmp_path / "s.zarr")
    assert ds.state is DatasetState.COMPLETE
    np.testing.assert_array_equal(np.asarray(ds.data_array[...]).reshape(frames.shape), frames)


def test_late_frame_for_a_shard_already_written(tmp_path, make_metadata, make_frames) -> None:
    """A gap holds its shard open only until a band of newer shards opens; the late frame
    is then patched into the shard on disk."""
    md = make_metadata(scan_shape=(8, 8))
    frames = make_frames((8, 8), (16, 16))
    with create_dataset(
        tmp_path / "s.zarr", md, dtype=np.uint16, shard_nav=(2, 2), chunk_nav=(1, 1)
    ) as w:
        w.write_frames(1, frames[1:])
        w.write_frame((0, 0), frames[0])
    ds = open_dataset(tmp_path / "s.zarr")
    assert ds.state is DatasetState.COMPLETE
    np.testing.assert_array_equal(ds.read_frame((0, 0)), frames[0])
    np.testing.assert_array_equal(np.asarray(ds.data_array[...]).reshape(frames.shape), frames)
    assert np.isfinite(ds.live_images["bf"]).all()


def test_duplicate_frame_is_rejected_and_nothing_overwritten(tmp_path, make_metadata, make_frames):
    md = make_metadata(scan_shape=(4, 4))
    frames = make_frames((4, 4), (16, 16))
    with create_dataset(tmp_path / "s.zarr", md, dtype=np.uint16) as w:
        w.write_frames(0, frames[:6])
        with pytest.raises(DatasetError, match=r"frame 5 \(1, 1\) was already written"):
            w.write_frames(5, np.zeros((3, 16, 16), np.uint16))  # 5 is a duplicate, 6, 7 new
        assert w.n_received == 6  # the new frames 6 and 7 of the rejected call were not kept
        w.write_frames(6, frames[6:])
    ds = open_dataset(tmp_path / "s.zarr")
    assert ds.state is DatasetState.COMPLETE
    np.testing.assert_array_equal(ds.read_frame(5), frames[5])


@pytest.mark.parametrize(
    ("frames", "match"),
    [
        (
            np.zeros((2, 16, 15), np.uint16),
            r"index 3: got array of shape \(2, 16, 15\), expected \(n, 16, 16\)",
        ),
        (np.zeros((16, 16), np.uint16), r"expected \(n, 16, 16\)"),
        (np.zeros((2, 16, 16), np.int32), r"index 3: dtype int32, expected uint16"),
        (np.zeros((20, 16, 16), np.uint16), r"frame indices 3…22 outside the scan \(0…15\)"),
    ],
)
def test_wrong_frames_are_rejected_clearly(tmp_path, make_metadata, frames, match) -> None:
    with create_dataset(
        tmp_path / "s.zarr", make_metadata(scan_shape=(4, 4)), dtype=np.uint16
    ) as w:
        with pytest.raises(DatasetError, match=match):
            w.write_frames(3, frames)
        assert w.n_received == 0


def test_exception_inside_with_marks_failed_and_keeps_frames(tmp_path, make_metadata, make_frames):
    md = make_metadata(scan_shape=(8, 8))
    frames = make_frames((8, 8), (16, 16))
    with (
        pytest.raises(RuntimeError, match="detector lost"),
        create_dataset(tmp_path / "s.zarr", md, dtype=np.uint16) as w,
    ):
        w.write_frames(0, frames[:20])
        raise RuntimeError("detector lost")
    ds = open_dataset(tmp_path / "s.zarr")
    assert ds.state is DatasetState.FAILED
    assert ds.frames_received.sum() == 20
    np.testing.assert_array_equal(ds.read_frame(19), frames[19])
    assert ds.manifest is not None
    assert any("failed" in p for p in validate_dataset(tmp_path / "s.zarr"))


def test_one_shard_file_per_256_frames(tmp_path, make_metadata, make_frames, write_store) -> None:
    md = make_metadata(scan_shape=(64, 64), det_shape=(8, 8))
    store = write_store(tmp_path / "s.zarr", md, make_frames((64, 64), (8, 8)))
    shard_files = [p for p in (store / "data").rglob("*") if p.is_file() and p.name != "zarr.json"]
    assert len(shard_files) == 64 * 64 // 256
    assert open_dataset(store).geometry.shard_nav == (16, 16)
    assert open_dataset(store).geometry.chunk_nav == (4, 4)


def test_writer_memory_stays_near_a_few_bands_of_shards(tmp_path, make_metadata) -> None:
    """128×64 frames of 32×32 uint16 (16 MiB in all; one band of 16×64 frames is 2 MiB, a
    shard 0.5 MiB), generated one at a time, with a gap in every shard: without eviction all
    would stay open. At most two bands are open, and up to one more is being written by
    the pool's two threads (plus their encoders' buffers)."""
    md = make_metadata(scan_shape=(128, 64), det_shape=(32, 32))
    rng = np.random.default_rng(0)
    tracemalloc.start()
    with create_dataset(tmp_path / "s.zarr", md, dtype=np.uint16) as w:
        for i in range(128 * 64):
            if i % 16 or (i // 64) % 16:  # skip the first frame of every shard
                w.write_frame(i, rng.poisson(0.3, size=(32, 32)).astype(np.uint16))
        _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 8 * 2**20, f"peak {peak / 2**20:.1f} MiB"
    assert open_dataset(tmp_path / "s.zarr").n_missing == 32


def test_time_series_store(tmp_path, make_metadata, make_frames, write_store) -> None:
    md = make_metadata(scan_shape=(5, 6), n_time=3)
    frames = make_frames((3, 5, 6), (16, 16))
    store = write_store(tmp_path / "s.zarr", md, frames, skip=(31,))  # t=1, (0, 1)
    ds = open_dataset(store)
    assert ds.nav_shape == (3, 5, 6) and ds.metadata.nav_dims == ("t", "scan_y", "scan_x")
    assert ds.missing_indices() == [(1, 0, 1)] and ds.state is DatasetState.INCOMPLETE
    np.testing.assert_array_equal(ds.read_frame((2, 4, 5)), frames[-1])
    assert dict(ds.iter_frames()).keys() == {i for i in np.ndindex(3, 5, 6) if i != (1, 0, 1)}
    assert np.isnan(ds.live_images["com_x"][1, 0, 1])
    assert ds.geometry.shard_nav == (1, 8, 8)  # 16 clipped to the scan, one time step each
    meta = json.loads((store / "data" / "zarr.json").read_text())
    assert meta["dimension_names"] == ["t", "scan_y", "scan_x", "ky", "kx"]


def test_binned_store_has_binned_frames_and_calibration(tmp_path, make_metadata, make_frames):
    md = make_metadata(scan_shape=(4, 4), compression=Compression(kind="bin", bin_factor=2))
    frames = make_frames((4, 4), (8, 8))
    with create_dataset(tmp_path / "s.zarr", md, dtype=np.uint16) as w:
        w.write_frames(0, frames)
        with pytest.raises(DatasetError):
            w.write_frame(0, np.zeros((16, 16), np.uint16))
    ds = open_dataset(tmp_path / "s.zarr")
    assert ds.frame_shape == (8, 8)
    grid = ds.metadata.frame_grid
    assert grid.pixel_size_inv_A == pytest.approx(0.2)
    assert grid.center_px == pytest.approx((3.75, 3.75))  # raw pixel 8 → (8 + 0.5)/2 − 0.5


def test_record_is_finished_with_the_store_hash(tmp_path, make_metadata, make_frames) -> None:
    from ptyflow.provenance import start_record

    record = start_record("acquire", command=["ptyflow", "acquire"])
    md = make_metadata(scan_shape=(4, 4))
    with create_dataset(tmp_path / "s.zarr", md, dtype=np.uint16, record=record) as w:
        w.write_frames(0, make_frames((4, 4), (16, 16)))
    ds = open_dataset(tmp_path / "s.zarr")
    assert ds.provenance is not None and ds.manifest is not None
    assert ds.provenance["record_id"] == record.record_id
    assert ds.provenance["outputs"][0]["content_hash"] == tree_hash(ds.manifest)
    assert "provenance.json" not in ds.manifest and "manifest.json" not in ds.manifest


def _failing_data_writes(monkeypatch: pytest.MonkeyPatch, fail_at: tuple[int, int]) -> None:
    """Make writes into the ``data`` array starting at scan position ``fail_at`` raise
    OSError (by position, not call order: shards are written by several threads)."""
    original = ChunkFiles.write

    def write(self: ChunkFiles, nav: tuple[slice, ...], block: np.ndarray) -> object:
        if self.key(nav).startswith("data/") and tuple(s.start for s in nav[:2]) == fail_at:
            raise OSError(28, "No space left on device")
        return original(self, nav, block)

    monkeypatch.setattr(ChunkFiles, "write", write)


def test_failed_shard_write_never_marks_frames_received(
    tmp_path: Path, make_metadata, make_frames, monkeypatch: pytest.MonkeyPatch
) -> None:
    md = make_metadata(scan_shape=(8, 8))
    frames = make_frames((8, 8), (16, 16)) + 1  # no frame equals the fill value
    store = tmp_path / "disk_full.zarr"
    # Shard (0, 0) is written when row 3 completes it; shard (0, 1), next, fails.
    _failing_data_writes(monkeypatch, (0, 4))
    with (
        pytest.raises(DatasetError, match=r"scan positions \[0:4, 4:8\]: .*No space"),
        create_dataset(store, md, dtype=frames.dtype, shard_nav=(4, 4)) as writer,
    ):
        writer.write_frames(0, frames)
    monkeypatch.undo()

    ds = open_dataset(store)
    assert ds.state is DatasetState.FAILED
    stored = np.zeros((8, 8), dtype=bool)
    stored[:4, :4] = True
    np.testing.assert_array_equal(ds.frames_received, stored)
    yielded = dict(ds.iter_frames())
    assert sorted(yielded) == [tuple(i) for i in np.argwhere(stored).tolist()]
    for (iy, ix), frame in yielded.items():
        np.testing.assert_array_equal(frame, frames[iy * 8 + ix])
    assert np.isnan(ds.live_images["bf"][~stored]).all()
    assert np.isfinite(ds.live_images["bf"][stored]).all()


def test_failed_flush_at_close_is_reported_and_recorded(
    tmp_path: Path, make_metadata, make_frames, monkeypatch: pytest.MonkeyPatch
) -> None:
    md = make_metadata(scan_shape=(8, 8))
    frames = make_frames((8, 8), (16, 16)) + 1
    store = tmp_path / "close_fails.zarr"
    writer = create_dataset(store, md, dtype=frames.dtype, shard_nav=(4, 4))
    writer.write_frames(0, frames[:60])  # the last shard stays open, 4 frames short
    _failing_data_writes(monkeypatch, (4, 4))
    with pytest.raises(DatasetError, match=r"could not store the frames.*while closing.*48 frames"):
        writer.close()
    monkeypatch.undo()
    ds = open_dataset(store)
    assert ds.state is DatasetState.FAILED
    assert int(ds.frames_received.sum()) == 48
    assert not ds.frames_received[4:, 4:].any()
