"""The daemon and the emulator as separate processes over real tcp and ipc sockets."""

from __future__ import annotations

import json
import signal
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ptyflow.acquire import fetch_status, synthetic_frames
from ptyflow.dataset import DatasetState, open_dataset, validate_dataset
from ptyflow.errors import PtyflowError
from ptyflow.provenance import check_record, read_record
from ptyflow.testing import make_metadata, poisson_frames, write_store

from .conftest import CONFIG, NO_COMPRESSION, Daemon, Emulator, wait_for

FRAME = (32, 32)
Pair = Callable[..., tuple[Emulator, Daemon]]


def _expected(n: int, distinct: int = 64) -> np.ndarray:
    """The emulator's synthetic frames: frame id i is the (i % distinct)-th distinct frame."""
    pool = synthetic_frames(distinct, FRAME)
    return pool[np.arange(n) % distinct]


def _store(daemon: Daemon, series: int) -> Path:
    return daemon.out / f"series-{series:06d}.zarr"


def _record(store: Path) -> dict[str, Any]:
    config = read_record(store).config
    assert config is not None
    return config


def test_every_fault_is_counted_and_only_arrived_frames_are_marked(run_pair: Pair) -> None:
    emu, daemon = run_pair(
        "--scan-shape",
        "8",
        "8",
        "--frame-shape",
        "32",
        "32",
        "--drop",
        "3,40",
        "--duplicate",
        "5",
        "--reorder",
        "10",
        "--corrupt",
        "12",
        "--malformed",
        "13",
        "--garbage-header",
        "--restart",
    )
    emu.finish()
    daemon.wait_closed(2)
    log = daemon.stop()
    assert daemon.proc.returncode == 0, log

    first = open_dataset(_store(daemon, 1))
    assert first.state == DatasetState.INCOMPLETE
    missing = {3, 40, 12, 13}
    received = first.frames_received.reshape(-1)
    assert set(np.flatnonzero(~received)) == missing
    data = np.asarray(first.data_array[...]).reshape(64, *FRAME)
    expected = _expected(64)
    arrived = sorted(set(range(64)) - missing)
    assert np.array_equal(data[arrived], expected[arrived])  # reordered frames in place
    assert not data[sorted(missing)].any()  # missing stay at the fill value, marked missing
    rec = _record(_store(daemon, 1))
    counts = rec["counts"]
    assert counts["received"] == 60 and counts["missing"] == 4
    assert counts["duplicate"] == 1 and counts["out_of_order"] == 1
    assert counts["malformed"] == {"undecodable": 1, "malformed": 1}
    assert rec["detector_header"]["htype"] == "dheader-1.0"
    assert rec["detector_config"]["nimages"] == 64
    assert rec["daemon"]["receive"]["protocol"] == "v1"
    assert rec["timing"]["seconds"] > 0
    flat = " ".join(log.split())  # rich wraps lines
    assert "series 1 frame 12: bslz4 blob undecodable" in flat, log
    # frame 13 is 'malformed' like the garbage message before it: rate-limited, not logged
    assert "message part 0: not valid JSON" in flat and "frame 13" not in flat
    assert validate_dataset(_store(daemon, 1)) == []
    check_record(_store(daemon, 1), activity="acquire")

    second = open_dataset(_store(daemon, 2))  # the restart: a new series, a new store
    assert second.state == DatasetState.COMPLETE
    assert np.array_equal(np.asarray(second.data_array[...]).reshape(64, *FRAME), expected)


def test_v2_over_ipc_streams_a_time_series_store(run_pair: Pair, tmp_path: Path) -> None:
    """A (t, y, x) store with a position never received: the daemon's copy holds the same
    frames and the same gap (the emulator never sends what the store lacks)."""
    frames = poisson_frames((3, 4, 4), (24, 32), seed=2)
    source = write_store(tmp_path / "source.zarr", make_metadata((4, 4), (24, 32), n_time=3),
                         frames, skip={17}, shard_nav=(2, 2), chunk_nav=(2, 2))  # fmt: skip
    endpoint = f"ipc://{tmp_path}/detector.sock"
    emu, daemon = run_pair(
        "--store", str(source), "--encoding", "lz4", "--duplicate", "20", "--drop", "5",
        protocol="v2", endpoint=endpoint,
    )  # fmt: skip
    assert emu.endpoint == endpoint
    emu.finish()
    daemon.wait_closed(1)
    daemon.stop()
    ds = open_dataset(_store(daemon, 1))
    assert ds.nav_shape == (3, 4, 4) and ds.metadata.acquisition.scan.n_time == 3
    received = ds.frames_received.reshape(-1)
    assert set(np.flatnonzero(~received)) == {5, 17}  # 17 = (t 1, y 0, x 1)
    data = np.asarray(ds.data_array[...]).reshape(48, 24, 32)
    assert np.array_equal(data[received], frames[received])
    assert _record(_store(daemon, 1))["counts"]["duplicate"] == 1


def test_npy_source_split_header_and_foreign_series(run_pair: Pair, tmp_path: Path) -> None:
    stack = np.random.default_rng(3).poisson(5.0, (3, 5, 24, 16)).astype(np.uint32)
    np.save(tmp_path / "stack.npy", stack)
    emu, daemon = run_pair(
        "--npy",
        str(tmp_path / "stack.npy"),
        "--split-header",
        "--encoding",
        "raw",
        scan="shape = [3, 5]",
    )
    emu.finish()
    daemon.wait_closed(1)
    daemon.stop()
    ds = open_dataset(_store(daemon, 1))
    assert ds.state == DatasetState.COMPLETE and ds.frame_shape == (24, 16)
    assert ds.metadata.acquisition.detector.bit_depth == 32
    assert np.array_equal(np.asarray(ds.data_array[...]), stack)


def test_stop_mid_series_status_then_sigterm_closes_the_store(
    run_pair: Pair, run_cli: Callable[..., Any]
) -> None:
    emu, daemon = run_pair(
        "--scan-shape", "8", "8", "--frame-shape", "32", "32", "--stop-after", "30"
    )  # fmt: skip
    emu.finish()
    daemon.wait_received(30)
    # while the series hangs open: the status endpoint, its PNG and the CLI
    url = json.loads((daemon.out / "acquire.status.json").read_text())["url"]
    assert url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(f"{url}/live.png", timeout=10) as resp:
        assert resp.read().startswith(b"\x89PNG\r\n\x1a\n")
    cli = run_cli("acquire", "status", "--config", daemon.config)
    assert cli.returncode == 0, cli.stderr
    metrics = json.loads(cli.stdout)
    assert metrics["frames_received"] == 30 and metrics["missing"] == 34
    assert metrics["current_counts"]["received"] == 30
    assert metrics["current_store"].endswith("series-000001.zarr")
    assert metrics["disk_free_bytes"] > 0

    log = daemon.stop(signal.SIGTERM)
    assert daemon.proc.returncode == 0, log
    ds = open_dataset(_store(daemon, 1))
    assert ds.state == DatasetState.INCOMPLETE
    assert np.array_equal(np.flatnonzero(ds.frames_received.reshape(-1)), np.arange(30))
    assert _record(_store(daemon, 1))["closed_because"] == "daemon stopped"
    assert not (daemon.out / "acquire.status.json").exists()
    with pytest.raises(PtyflowError, match="does not answer"):
        fetch_status(url)


def test_bad_config_exits_2_naming_the_key(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[receive]\nendpont = "tcp://x"\n')
    proc = run_cli("acquire", "--config", cfg)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "endpont" in proc.stderr and "endpoint" in proc.stderr
    cfg.write_text(CONFIG.format(endpoint="bogus://x", protocol="v1", scan="", out=tmp_path,
                                 compress=NO_COMPRESSION))  # fmt: skip
    proc = run_cli("acquire", "--config", cfg)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "[receive].endpoint 'bogus://x': cannot connect" in " ".join(proc.stderr.split())


def test_sigkill_then_recover_keeps_every_written_frame_and_restart_never_clobbers(
    run_pair: Pair, run_cli: Callable[..., Any], processes: list[Any]
) -> None:
    emu, daemon = run_pair(
        "--scan-shape", "8", "8", "--frame-shape", "32", "32", "--stop-after", "40"
    )  # fmt: skip
    emu.finish()
    daemon.wait_received(40)  # rows 0-3 fill the first band of 4×4 shards
    store = _store(daemon, 1)
    # Shards land in the background: wait for their marks on disk (rows 4… stay buffered).
    wait_for(lambda: open_dataset(store).frames_received[:4].all(), "rows 0-3 on disk")
    daemon.stop(signal.SIGKILL)
    assert open_dataset(store).state == DatasetState.ACQUIRING
    fixed = run_cli("recover", store)
    assert fixed.returncode == 0, fixed.stderr
    ds = open_dataset(store)
    assert ds.state == DatasetState.INCOMPLETE and validate_dataset(store) == []
    # the recovery keeps what the daemon recorded when the series started
    started = read_record(store).config["started_record"]  # type: ignore[index]
    assert started["activity"] == "acquire" and started["config"]["series"] == 1
    assert started["config"]["detector_header"]["htype"].startswith("dheader")
    assert started["config"]["daemon"]["receive"]["endpoint"] == emu.endpoint
    received = ds.frames_received.reshape(-1)
    assert received[:32].all() and not received[40:].any()  # 32…39 were still in memory
    data = np.asarray(ds.data_array[...]).reshape(64, *FRAME)
    assert np.array_equal(data[received], _expected(64)[received])
    before = {p: p.read_bytes() for p in store.rglob("*") if p.is_file()}

    # a restarted daemon receiving the same series id writes a new store beside it
    emu2 = Emulator("--scan-shape", "2", "2", "--frame-shape", "32", "32")
    processes.append(emu2.proc)
    again = Daemon(daemon.out.parent, emu2.endpoint)
    processes.append(again.proc)
    emu2.finish()
    again.wait_closed(1)
    again.stop()
    assert open_dataset(daemon.out / "series-000001-2.zarr").state == DatasetState.COMPLETE
    assert {p: p.read_bytes() for p in store.rglob("*") if p.is_file()} == before
