"""validate_dataset: checksums, seal, state consistency, leftovers of interrupted writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ptyflow.dataset import validate_dataset
from ptyflow.errors import DatasetError


@pytest.fixture
def store(tmp_path, make_metadata, make_frames, write_store) -> Path:
    md = make_metadata(scan_shape=(8, 8))
    return write_store(tmp_path / "s.zarr", md, make_frames((8, 8), (16, 16)), shard_nav=(4, 4))


def _shard_file(store: Path) -> Path:
    return next(p for p in sorted((store / "data" / "c").rglob("*")) if p.is_file())


def test_valid_store_has_no_problems(store) -> None:
    assert validate_dataset(store, verify_checksums=True) == []


def test_checksums_detect_a_modified_chunk_file(store) -> None:
    shard = _shard_file(store)
    raw = bytearray(shard.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    shard.write_bytes(bytes(raw))
    assert validate_dataset(store) == []  # without rehashing nothing is noticed
    problems = validate_dataset(store, verify_checksums=True)
    assert problems == [f"{shard}: checksum differs from the manifest (file modified)"]


def test_checksums_name_missing_and_extra_files(store) -> None:
    shard = _shard_file(store)
    shard.unlink()
    (store / "notes.txt").write_text("added later")
    problems = validate_dataset(store, verify_checksums=True)
    assert f"{shard}: missing (listed in the manifest)" in problems
    assert f"{store / 'notes.txt'}: not listed in the manifest" in problems


def test_record_hash_must_match_manifest(tmp_path, make_metadata, make_frames, write_store) -> None:
    from ptyflow.provenance import start_record

    md = make_metadata(scan_shape=(2, 2))
    record = start_record("test", command=["pytest"])
    store = write_store(tmp_path / "s.zarr", md, make_frames((2, 2), (16, 16)), record=record)
    assert validate_dataset(store) == []
    manifest = json.loads((store / "manifest.json").read_text())
    manifest["data/zarr.json"]["sha256"] = "0" * 64
    (store / "manifest.json").write_text(json.dumps(manifest))
    assert any("does not match the manifest's tree hash" in p for p in validate_dataset(store))


def test_state_must_agree_with_frames_received(store) -> None:
    path = store / "zarr.json"
    doc = json.loads(path.read_text())
    doc["attributes"]["ptyflow"]["state"] = "incomplete"
    path.write_text(json.dumps(doc))
    problems = validate_dataset(store)
    assert any("state 'incomplete' but every frame is marked received" in p for p in problems)


def test_temp_files_of_interrupted_writes_are_reported(store) -> None:
    (store / "data" / "zarr.1234.partial").write_text("{")
    assert any("temp file of an interrupted write" in p for p in validate_dataset(store))


def test_unsealed_store_is_reported(store) -> None:
    (store / "manifest.json").unlink()
    assert validate_dataset(store) == [f"{store}: no manifest.json"]


def test_raise_on_error_lists_all_problems(store) -> None:
    (store / "manifest.json").unlink()
    (store / "x.partial").write_text("")
    with pytest.raises(DatasetError, match=r"2 problem\(s\)\n.*temp file.*\n.*no manifest\.json"):
        validate_dataset(store, raise_on_error=True)


def test_unopenable_store_is_one_problem(tmp_path) -> None:
    assert validate_dataset(tmp_path / "nope") == [f"no store at {tmp_path / 'nope'}"]
