"""Opening stores that are missing, corrupt, foreign, of another version or half-written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zarr

from ptyflow.dataset import DatasetState, create_dataset, open_dataset, validate_dataset
from ptyflow.errors import DatasetError, SchemaVersionError


@pytest.fixture
def store(tmp_path, make_metadata, make_frames, write_store) -> Path:
    md = make_metadata(scan_shape=(4, 4))
    return write_store(tmp_path / "s.zarr", md, make_frames((4, 4), (16, 16)))


def _edit_attrs(store: Path, edit: Any) -> None:
    path = store / "zarr.json"
    doc = json.loads(path.read_text())
    edit(doc["attributes"]["ptyflow"])
    path.write_text(json.dumps(doc))


def test_nonexistent_path(tmp_path) -> None:
    with pytest.raises(DatasetError, match=f"no store at {tmp_path / 'nope.zarr'}"):
        open_dataset(tmp_path / "nope.zarr")


def test_corrupt_group_json_names_file_and_json_error(store) -> None:
    (store / "zarr.json").write_text('{"zarr_format": 3, "node_type": ')
    with pytest.raises(DatasetError, match=r"s\.zarr/zarr\.json: not valid JSON: Expecting value"):
        open_dataset(store)


def test_wrong_schema_version(store) -> None:
    _edit_attrs(store, lambda a: a.update(schema_version=2))
    with pytest.raises(
        SchemaVersionError, match="schema version 2; this ptyflow supports version 1"
    ):
        open_dataset(store)


def test_invalid_metadata_names_the_attribute_key(store) -> None:
    _edit_attrs(store, lambda a: a["acquisition"]["beam"].update(energy_eV=-300e3))
    with pytest.raises(
        DatasetError, match=r"ptyflow\.acquisition\.beam\.energy_eV: .*greater than 0"
    ):
        open_dataset(store)


def test_unknown_attribute_key_is_rejected(store) -> None:
    _edit_attrs(store, lambda a: a["acquisition"]["scan"].update(step_nm=(1, 1)))
    with pytest.raises(DatasetError, match=r"ptyflow\.acquisition\.scan\.step_nm: Extra inputs"):
        open_dataset(store)


def test_plain_zarr_group_is_not_a_store(tmp_path) -> None:
    zarr.open_group(tmp_path / "g.zarr", mode="w")
    with pytest.raises(DatasetError, match="not a ptyflow dataset store"):
        open_dataset(tmp_path / "g.zarr")


def test_missing_required_array(store) -> None:
    shutil.rmtree(store / "live" / "adf")
    with pytest.raises(DatasetError, match=r"live/adf: required array is missing"):
        open_dataset(store)
    assert any("live/adf" in p for p in validate_dataset(store))


def test_array_of_wrong_shape(store) -> None:
    path = store / "frames_received" / "zarr.json"
    meta = json.loads(path.read_text())
    meta["shape"] = [4, 5]
    path.write_text(json.dumps(meta))
    with pytest.raises(DatasetError, match=r"frames_received: shape \(4, 5\), expected \(4, 4\)"):
        open_dataset(store)


def test_read_frame_outside_scan(store) -> None:
    ds = open_dataset(store)
    with pytest.raises(IndexError):
        ds.read_frame((4, 0))
    with pytest.raises(IndexError):
        ds.read_frame(16)


def test_store_left_acquiring_after_a_crash_is_detectable(tmp_path, make_metadata) -> None:
    writer = create_dataset(tmp_path / "s.zarr", make_metadata(scan_shape=(4, 4)), dtype=np.uint16)
    writer.write_frames(0, np.ones((5, 16, 16), np.uint16))
    del writer  # the process dies: no close, no flush
    ds = open_dataset(tmp_path / "s.zarr")
    assert ds.state is DatasetState.ACQUIRING
    assert ds.manifest is None
    problems = validate_dataset(tmp_path / "s.zarr")
    assert len(problems) == 1 and "crashed before closing" in problems[0]


def test_existing_store_is_not_overwritten_unless_asked(store, make_metadata, make_frames) -> None:
    md = make_metadata(scan_shape=(2, 2))
    with pytest.raises(DatasetError, match="already exists; pass overwrite=True"):
        create_dataset(store, md, dtype=np.uint16)
    assert open_dataset(store).nav_shape == (4, 4)
    with create_dataset(store, md, dtype=np.uint16, overwrite=True) as w:
        w.write_frames(0, make_frames((2, 2), (16, 16)))
    assert open_dataset(store).nav_shape == (2, 2)


def test_overwrite_never_touches_a_foreign_directory(tmp_path, make_metadata) -> None:
    foreign = tmp_path / "thesis"
    foreign.mkdir()
    (foreign / "chapter1.tex").write_text("precious")
    with pytest.raises(DatasetError, match="refusing to overwrite"):
        create_dataset(foreign, make_metadata(), dtype=np.uint16, overwrite=True)
    assert (foreign / "chapter1.tex").read_text() == "precious"


def test_arguments_are_checked_before_an_old_store_is_deleted(store, make_metadata) -> None:
    with pytest.raises(DatasetError, match="cannot hold 12-bit"):
        create_dataset(store, make_metadata(), dtype=np.uint8, overwrite=True)
    assert open_dataset(store).state is DatasetState.COMPLETE


@pytest.mark.parametrize(
    ("dtype", "ok"),
    [(np.uint16, True), (np.int16, True), (np.int8, False), (np.uint8, False), (np.float32, True)],
)
def test_integer_dtypes_must_hold_the_bit_depth(tmp_path, make_metadata, dtype, ok) -> None:
    # make_metadata's detector counts in 12 bits; a signed type loses one bit to the sign.
    if ok:
        create_dataset(tmp_path / "s.zarr", make_metadata(), dtype=dtype).close()
    else:
        with pytest.raises(DatasetError, match="cannot hold 12-bit"):
            create_dataset(tmp_path / "s.zarr", make_metadata(), dtype=dtype)
