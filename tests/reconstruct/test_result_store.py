"""The result store round-trips and refuses what is not one (docs/result-store.md)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from ptyflow.errors import PtyflowError, ResultError
from ptyflow.provenance import content_hash, read_record, start_record
from ptyflow.reconstruct import ResultMetadata, open_result, write_result
from ptyflow.reconstruct._checkpoint import Checkpoint
from ptyflow.reconstruct._progress import IterationLog


def _metadata(n_slices: int = 2) -> ResultMetadata:
    return ResultMetadata(
        pixel_size_A=(0.2, 0.25),
        origin_A=(-3.0, -4.5),
        n_slices=n_slices,
        slice_thickness_A=2.0,
        energy_eV=3e5,
        config={"model": {"n_slices": n_slices}},
        dataset_content_hash="sha256:abc",
        iterations=3,
    )


def _arrays(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {
        "object": (rng.normal(size=(2, 5, 7)) + 1j * rng.normal(size=(2, 5, 7))).astype(
            np.complex64
        ),
        "probe": np.ones((3, 4, 4), np.complex64),
        "positions_A": rng.normal(size=(6, 2)),
        "loss": np.array([3.0, 2.0, 1.0]),
    }


def test_round_trip_with_record(tmp_path: Path) -> None:
    arrays = _arrays(np.random.default_rng(0))
    path = tmp_path / "r.zarr"
    digest = write_result(path, _metadata(), arrays, start_record("reconstruct"))
    result = open_result(path)
    for name, value in arrays.items():
        np.testing.assert_array_equal(getattr(result, name), value)
    assert result.pixel_size_A == (0.2, 0.25) and result.origin_A == (-3.0, -4.5)
    attrs = json.loads((path / "zarr.json").read_text())["attributes"]["ptyflow"]
    assert attrs["schema"] == "ptyflow.result" and attrs["schema_version"] == 1
    assert read_record(path).outputs[0].content_hash == digest == content_hash(path)
    np.testing.assert_allclose(result.phase, np.angle(arrays["object"]).sum(0), rtol=1e-6)
    assert not list(tmp_path.glob("*.partial"))


def _record_fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The path of every fsynced file or directory, in order."""
    synced: list[Path] = []
    fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        synced.append(Path(os.readlink(f"/proc/self/fd/{fd}")))
        fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    return synced


def test_a_power_cut_cannot_leave_a_manifest_naming_unsynced_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced = _record_fsyncs(monkeypatch)
    path = tmp_path / "r.zarr"
    write_result(path, _metadata(), _arrays(np.random.default_rng(2)), start_record("r"))
    manifest = next(i for i, p in enumerate(synced) if p.name.startswith(".manifest.json"))
    # paths inside the temp directory the store is written in (its name is a temp name)
    before = {Path(*p.relative_to(tmp_path).parts[1:]) for p in synced[:manifest]}
    written = {p.relative_to(path) for p in path.rglob("*")} | {Path()}
    metadata = {Path("manifest.json"), Path("provenance.json")}  # synced as their temp files
    assert written - metadata <= before  # every file and directory, before the manifest
    assert synced[-1] == tmp_path  # the rename into place, durable


def test_a_checkpoint_is_on_disk_before_it_replaces_the_last_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = torch.nn.Linear(2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1)
    path = tmp_path / "r.zarr.checkpoint.pt"
    checkpoint = Checkpoint(path, model, optimizer, scheduler, IterationLog())
    synced = _record_fsyncs(monkeypatch)
    checkpoint.save(3)
    assert [p.name.endswith(".partial") for p in synced] == [True, False]  # bytes, then rename
    assert synced[1] == tmp_path and checkpoint.load() == 3


def test_refuses_to_clobber(tmp_path: Path) -> None:
    arrays = _arrays(np.random.default_rng(1))
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("x")
    with pytest.raises(ResultError, match="exists"):
        write_result(other, _metadata(), arrays, None)
    with pytest.raises(ResultError, match="not a ptyflow result"):
        write_result(other, _metadata(), arrays, None, overwrite=True)
    assert (other / "keep.txt").read_text() == "x"
    path = tmp_path / "r.zarr"
    write_result(path, _metadata(), arrays, None)
    write_result(path, _metadata(), arrays, None, overwrite=True)


def test_bad_stores_are_named(tmp_path: Path) -> None:
    with pytest.raises(ResultError, match="no result store"):
        open_result(tmp_path / "absent")
    path = tmp_path / "r.zarr"
    write_result(path, _metadata(n_slices=2), _arrays(np.random.default_rng(2)), None)
    doc = json.loads((path / "zarr.json").read_text())
    doc["attributes"]["ptyflow"]["n_slices"] = 3
    (path / "zarr.json").write_text(json.dumps(doc))
    with pytest.raises(ResultError, match="n_slices"):
        open_result(path)
    doc["attributes"]["ptyflow"]["pixel_sise_A"] = 1
    (path / "zarr.json").write_text(json.dumps(doc))
    with pytest.raises(PtyflowError, match="pixel_sise_A"):
        open_result(path)
    doc["attributes"]["ptyflow"]["schema_version"] = 2
    (path / "zarr.json").write_text(json.dumps(doc))
    with pytest.raises(ResultError, match="version"):
        open_result(path)
