"""The metadata models: units, validators, JSON round trip, derived shapes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from ptyflow.dataset import Compression, DatasetMetadata, DatasetState


def _dump(md: DatasetMetadata) -> dict[str, Any]:
    return md.model_dump(mode="json")


def _load(data: dict[str, Any]) -> DatasetMetadata:
    """Validate as a store's ``zarr.json`` is read: a JSON document, strictly."""
    return DatasetMetadata.model_validate_json(json.dumps(data))


def test_json_round_trip(make_metadata) -> None:
    md = make_metadata(n_time=3, compression=Compression(kind="bin", bin_factor=4))
    assert _load(_dump(md)) == md
    assert _dump(md)["schema_id"] == "ptyflow.dataset" and _dump(md)["schema_version"] == 1
    assert _dump(md)["state"] == "acquiring"


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("acquisition", "beam", "energy_eV"), -300e3, "greater than 0"),
        (("acquisition", "beam", "energy_eV"), float("nan"), "finite number"),
        (("acquisition", "beam", "semiangle_mrad"), 0.0, "greater than 0"),
        (("acquisition", "scan", "shape"), (0, 8), "greater than 0"),
        (("acquisition", "scan", "step_A"), (0.5, -0.1), "greater than 0"),
        (("acquisition", "scan", "n_time"), 0, "greater than 0"),
        (("acquisition", "detector", "shape"), (16, -1), "greater than 0"),
        (("acquisition", "detector", "center_px"), (8.0, 16.5), "outside the detector"),
        (("acquisition", "detector", "center_px"), (-1.0, 8.0), "outside the detector"),
        (("acquisition", "detector", "bit_depth"), 0, "greater than or equal to 1"),
        (("acquisition", "detector", "pixel_size_inv_A"), 0.0, "greater than 0"),
        (("acquisition", "started_utc"), "2025-01-02T03:04:05", "timezone"),
        (("acquisition", "finished_utc"), "2025-01-01T00:00:00Z", "earlier than started_utc"),
        (("acquisition", "beam", "energy_keV"), 300, "Extra inputs"),
        (("compression",), {"kind": "bin"}, "bin_factor is required"),
        (("compression",), {"kind": "bin", "bin_factor": 3}, "does not divide"),
        (("compression",), {"kind": "none", "bin_factor": 2}, "only allowed there"),
        (("compression",), {"kind": "virtual", "mask_names": ["a", "a"]}, "unique"),
        (("compression",), {"kind": "virtual", "mask_names": []}, "non-empty"),
        (("compression",), {"kind": "gzip"}, "Input should be"),
        (("schema_version",), 2, "is not 1"),
        (("state",), "done", "Input should be"),
        (("acquisition", "beam", "energy_eV"), "300000", "valid number"),
        (("acquisition", "scan", "shape"), ["8", 8.0], "valid integer"),
    ],
)
def test_nonsense_is_rejected(make_metadata, path, value, message) -> None:
    data = _dump(make_metadata())
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ValidationError, match=message):
        _load(data)


def test_timestamps_are_normalised_to_utc(make_metadata) -> None:
    data = _dump(make_metadata())
    data["acquisition"]["started_utc"] = "2025-01-02T05:04:05+02:00"
    md = _load(data)
    assert md.acquisition.started_utc.utcoffset() == timedelta(0)
    assert md.acquisition.started_utc == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_derived_shapes(make_metadata) -> None:
    md = make_metadata(scan_shape=(5, 6), det_shape=(16, 16), n_time=2)
    assert md.nav_shape == (2, 5, 6) and md.nav_dims == ("t", "scan_y", "scan_x")
    assert md.frame_shape == (16, 16) and md.frame_dims == ("ky", "kx")
    binned = make_metadata(compression=Compression(kind="bin", bin_factor=4))
    assert binned.frame_shape == (4, 4)
    assert binned.frame_grid.center_px == (1.625, 1.625)  # (8 + 0.5)/4 − 0.5
    virtual = make_metadata(compression=Compression(kind="virtual", mask_names=("bf", "adf")))
    assert virtual.frame_shape == (2,) and virtual.frame_dims == ("mask",)
    assert virtual.frame_grid.shape == (16, 16)  # masks act on the raw detector


def test_leaving_acquiring_stamps_finished_time(make_metadata) -> None:
    md = make_metadata()
    assert md.with_state(DatasetState.ACQUIRING).acquisition.finished_utc is None
    done = md.with_state(DatasetState.COMPLETE)
    assert done.state is DatasetState.COMPLETE
    assert done.acquisition.finished_utc is not None
    assert done.acquisition.finished_utc >= md.acquisition.started_utc
