"""Crash durability: frames_received persisted per shard, `recover`, sealing not interruptible."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ptyflow.cli import main
from ptyflow.dataset import (
    DatasetMetadata,
    DatasetState,
    create_dataset,
    open_dataset,
    recover_dataset,
    validate_dataset,
    writer_running,
)
from ptyflow.dataset import _close_store as close_module
from ptyflow.errors import DatasetError
from ptyflow.provenance import check_record, content_hash, read_record

# A writer process that stores the first frames, then is killed (SIGKILL: no cleanup at all).
_KILLED_WRITER = """
import os, signal, sys
import numpy as np
from ptyflow.dataset import DatasetMetadata, create_dataset
path, md_json, frames_npy, n = sys.argv[1:]
frames = np.load(frames_npy)
md = DatasetMetadata.model_validate_json(md_json)
writer = create_dataset(path, md, dtype=frames.dtype, shard_nav=(4, 4), chunk_nav=(2, 2))
writer.write_frames(0, frames[: int(n)])
writer.sync()  # the full shards handed over are on disk (they are written in the background)
os.kill(os.getpid(), signal.SIGKILL)
"""


def _crashed_store(path: Path, md, frames: np.ndarray, n_written: int) -> Path:
    """The store of a writer killed after frames 0 … n_written-1 were handed to it."""
    np.save(path.with_suffix(".npy"), frames)
    args = [path, md.model_dump_json(), path.with_suffix(".npy"), n_written]
    proc = subprocess.run([sys.executable, "-c", _KILLED_WRITER, *map(str, args)], check=False)
    assert proc.returncode == -signal.SIGKILL
    return path


def _info_text(store: Path, capsys: pytest.CaptureFixture[str]) -> str:
    main(["info", str(store)])  # 1 for a crashed store: it is not valid yet
    return " ".join(capsys.readouterr().out.split())  # unwrapped


def test_frames_received_is_persisted_as_shards_land(
    tmp_path, make_metadata, make_frames, capsys
) -> None:
    md = make_metadata(scan_shape=(8, 8))
    frames = make_frames((8, 8), (16, 16))
    store = _crashed_store(tmp_path / "s.zarr", md, frames, n_written=40)  # 5 scan rows
    ds = open_dataset(store)
    assert ds.state is DatasetState.ACQUIRING
    expected = np.zeros((8, 8), bool)
    expected[:4] = True  # rows 0-3 fill both shards of the first band; row 4 is buffered
    np.testing.assert_array_equal(ds.frames_received, expected)
    assert not writer_running(store)  # the kernel dropped the dead writer's lock
    assert "no writer is running" in _info_text(store, capsys)


def test_recover_refuses_while_the_writer_runs(tmp_path, make_metadata, capsys) -> None:
    path = tmp_path / "s.zarr"
    writer = create_dataset(path, make_metadata(scan_shape=(4, 4)), dtype=np.uint16)
    assert writer_running(path)
    assert "no writer is running" not in _info_text(path, capsys)  # acquiring, and alive
    with pytest.raises(DatasetError, match="another ptyflow process is writing it"):
        recover_dataset(path)
    writer.close()


def test_recover_keeps_exactly_the_intact_frames(
    tmp_path, make_metadata, make_frames, write_store
) -> None:
    md = make_metadata(scan_shape=(8, 8))
    frames = make_frames((8, 8), (16, 16))
    store = _crashed_store(tmp_path / "s.zarr", md, frames, n_written=40)
    ds = open_dataset(store)
    damaged = ds.shard_file((0, 1))
    raw = bytearray(damaged.read_bytes())
    raw[20] ^= 0x01  # inside the shard's first chunk: scan positions (0:2, 4:6)
    damaged.write_bytes(bytes(raw))
    (store / "data" / ".zarr.json.0123.partial").write_text("{")  # an interrupted write
    before = content_hash(store)
    crashed = shutil.copytree(store, tmp_path / "crashed.zarr")  # the input, as it was

    assert main(["recover", str(store)]) == 0

    ds = open_dataset(store)
    expected = np.zeros((8, 8), bool)
    expected[:4] = True
    expected[0:2, 4:6] = False
    assert ds.state is DatasetState.INCOMPLETE
    np.testing.assert_array_equal(ds.frames_received, expected)
    for index, frame in ds.iter_frames():
        np.testing.assert_array_equal(frame, frames[index[0] * 8 + index[1]])
    assert validate_dataset(store, verify_checksums=True) == []
    record = read_record(store)
    assert record.activity == "recover"
    check_record(store, activity="recover", inputs=[crashed])
    assert [i.content_hash for i in record.inputs] == [before]
    assert len(record.config["damaged_chunks"]) == 1
    assert "chunk (0, 0)" in record.config["damaged_chunks"][0]
    # Live images equal those of a store that was closed normally with the same frames.
    skip = tuple(int(i) for i in np.flatnonzero(~expected))
    reference = open_dataset(write_store(tmp_path / "ref.zarr", md, frames, skip=skip))
    for name, image in reference.live_images.items():
        np.testing.assert_allclose(ds.live_images[name], image, rtol=1e-6, equal_nan=True)


def test_recover_refuses_a_closed_store(tmp_path, make_metadata, make_frames, write_store):
    md = make_metadata(scan_shape=(4, 4))
    store = write_store(tmp_path / "s.zarr", md, make_frames((4, 4), (16, 16)))
    with pytest.raises(DatasetError, match="state 'complete'; only a store left 'acquiring'"):
        recover_dataset(store)


@pytest.fixture
def set_sigint() -> Iterator[Callable[[Any], object]]:
    """Set SIGINT's handler for one test. pytest may have inherited SIGINT ignored (a job a
    shell started in the background, ``pytest &``, ignores it), so none is assumed."""
    inherited = signal.getsignal(signal.SIGINT)
    yield lambda handler: signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGINT, inherited)


def _close_with_ctrl_c_in_seal(
    path: Path, md: DatasetMetadata, frames: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> list[object]:
    """Write ``frames`` into a new store at ``path`` and close it, a Ctrl-C arriving halfway
    through the close (as it seals); return SIGINT's handler as the seal saw it."""
    seal, seen = close_module.seal_directory, []

    def interrupted_seal(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(signal.getsignal(signal.SIGINT))
        signal.raise_signal(signal.SIGINT)
        return seal(*args, **kwargs)

    monkeypatch.setattr(close_module, "seal_directory", interrupted_seal)
    with create_dataset(path, md, dtype=frames.dtype) as writer:
        writer.write_frames(0, frames)
    return seen


def test_a_second_ctrl_c_while_closing_does_not_leave_it_half_sealed(
    tmp_path, make_metadata, make_frames, monkeypatch, set_sigint
) -> None:
    set_sigint(signal.default_int_handler)  # Ctrl-C raises KeyboardInterrupt
    path = tmp_path / "s.zarr"
    with pytest.raises(KeyboardInterrupt):
        md = make_metadata(scan_shape=(4, 4))
        _close_with_ctrl_c_in_seal(path, md, make_frames((4, 4), (16, 16)), monkeypatch)
    assert (path / "manifest.json").is_file()
    assert open_dataset(path).state is DatasetState.COMPLETE
    assert validate_dataset(path, verify_checksums=True) == []


def test_closing_in_a_process_that_ignores_ctrl_c_keeps_ignoring_it(
    tmp_path, make_metadata, make_frames, monkeypatch, set_sigint
) -> None:
    set_sigint(signal.SIG_IGN)
    md = make_metadata(scan_shape=(4, 4))
    path = tmp_path / "s.zarr"
    seen = _close_with_ctrl_c_in_seal(path, md, make_frames((4, 4), (16, 16)), monkeypatch)
    assert seen == [signal.SIG_IGN]  # nothing was held back
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    assert open_dataset(path).state is DatasetState.COMPLETE
