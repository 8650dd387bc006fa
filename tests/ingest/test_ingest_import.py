"""run_import: exact frames, dtype rules, axis orders, HDF5, missing frames, provenance."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from ptyflow.config import load_toml
from ptyflow.config.import_ import ImportConfig
from ptyflow.dataset import open_dataset, validate_dataset
from ptyflow.errors import ConfigError, DatasetError
from ptyflow.ingest import run_import
from ptyflow.provenance import (
    Match,
    check_record,
    content_hash,
    read_record,
    rerun,
    verify_artifact,
)
from ptyflow.testing import undocumented_keys

from .conftest import FRAME, SCAN, MakeConfig

REPO = Path(__file__).resolve().parents[2]


def _stored(store: Path) -> np.ndarray:
    return np.asarray(open_dataset(store).data_array[...])


def test_integral_float_counts_become_exact_uint16_with_provenance(
    tmp_path: Path, counts: np.ndarray, make_config: MakeConfig
) -> None:
    src = tmp_path / "counts.npy"
    np.save(src, counts)
    result = run_import(make_config(), src, tmp_path / "s.zarr", progress=False)
    assert result.dtype == np.uint16 and result.n_missing == 0 and result.truth is None
    np.testing.assert_array_equal(_stored(result.store), counts)
    ds = open_dataset(result.store)
    det = ds.metadata.acquisition.detector
    assert (det.shape, det.center_px, det.bit_depth) == (FRAME, (4.0, 4.0), 16)
    assert ds.state.value == "complete" and not validate_dataset(result.store)
    record = read_record(result.store)
    assert record.activity == "import"
    assert record.inputs[0].content_hash == content_hash(src)
    assert record.config is not None and record.config["scan"]["shape"] == list(SCAN)
    assert verify_artifact(result.store).ok
    check_record(result.store, activity="import", inputs=[src])


def test_expected_counts_stay_float32_and_forcing_integers_is_refused(
    tmp_path: Path, counts: np.ndarray, make_config: MakeConfig
) -> None:
    src = tmp_path / "mean.npy"
    np.save(src, counts * 0.37)
    result = run_import(make_config(), src, tmp_path / "s.zarr", progress=False)
    assert result.dtype == np.float32
    np.testing.assert_array_equal(_stored(result.store), counts * np.float32(0.37))
    with pytest.raises(DatasetError, match="needs non-negative integral counts"):
        run_import(
            make_config(source={"dtype": "uint16"}), src, tmp_path / "t.zarr", progress=False
        )
    assert not (tmp_path / "t.zarr").exists()  # nothing written when refused
    np.save(src, counts * 1000)  # integral, but beyond 16 bits
    big = run_import(make_config(), src, tmp_path / "u.zarr", progress=False)
    assert big.dtype == np.uint32
    assert open_dataset(big.store).metadata.acquisition.detector.bit_depth == 32


def test_abtem_axis_order_from_hdf5(
    tmp_path: Path, counts: np.ndarray, make_config: MakeConfig
) -> None:
    # A py4DSTEM-EMD-like file with the array in abTEM's native (x, y, kx, ky) order.
    src = tmp_path / "data.emd"
    with h5py.File(src, "w") as h5:
        h5.create_dataset("datacube_root/datacube/data", data=counts.transpose(1, 0, 3, 2))
        h5.create_dataset("datacube_root/datacube/dim1", data=np.arange(SCAN[1]))
    config = make_config(source={"axes": ["scan_x", "scan_y", "kx", "ky"]})
    result = run_import(config, src, tmp_path / "s.zarr", progress=False)  # the only 4D one
    np.testing.assert_array_equal(_stored(result.store), counts)
    assert (
        "data.emd:/datacube_root/datacube/data"
        in open_dataset(result.store).metadata.acquisition.source
    )
    with pytest.raises(ConfigError) as err:
        run_import(
            make_config(source={"dataset": "/datacube/data"}),
            src,
            tmp_path / "t.zarr",
            progress=False,
        )
    assert "'/datacube/data' is not in the file" in str(err.value)
    assert "/datacube_root/datacube/data (5, 6, 8, 8) float32" in str(err.value)


def test_stack_of_frames_in_raster_order(
    tmp_path: Path, counts: np.ndarray, make_config: MakeConfig
) -> None:
    src = tmp_path / "stack.npy"
    np.save(src, counts.reshape(-1, *FRAME))
    config = make_config(source={"axes": ["scan", "ky", "kx"]})
    np.testing.assert_array_equal(
        _stored(run_import(config, src, tmp_path / "s.zarr", progress=False).store), counts
    )


def test_all_nan_frames_are_missing_never_zeros(
    tmp_path: Path, counts: np.ndarray, make_config: MakeConfig
) -> None:
    data = counts.copy()
    data[2, 3] = np.nan
    src = tmp_path / "gappy.npy"
    np.save(src, data)
    with pytest.raises(DatasetError, match=r"frame \(scan_y, scan_x\) = \(2, 3\) is all NaN"):
        run_import(make_config(), src, tmp_path / "s.zarr", progress=False)
    received = np.ones(SCAN, bool)
    received[0, 1] = False
    np.save(tmp_path / "received.npy", received)
    config = make_config(
        source={"nan_frames": "missing", "frames_received_path": str(tmp_path / "received.npy")}
    )
    result = run_import(config, src, tmp_path / "s.zarr", progress=False)
    ds = open_dataset(result.store)
    assert result.n_missing == 2 and ds.state.value == "incomplete"
    assert ds.missing_indices() == [(0, 1), (2, 3)]
    assert result.dtype == np.uint16  # the NaN frame did not force floats
    for index, frame in ds.iter_frames():
        np.testing.assert_array_equal(frame, counts[index])
    data[4, 0, 1, 1] = np.nan  # a partly NaN frame is never silently missing
    np.save(src, data)
    with pytest.raises(DatasetError, match=r"\(4, 0\) contains NaN"):
        run_import(config, src, tmp_path / "t.zarr", progress=False)


def test_rerun_reproduces_an_import_with_missing_frames_bit_for_bit(
    tmp_path: Path, counts: np.ndarray, make_config: MakeConfig
) -> None:
    src, received_path = tmp_path / "src.npy", tmp_path / "received.npy"
    np.save(src, counts)
    received = np.ones(SCAN, bool)
    received[1, 2] = False
    np.save(received_path, received)
    config = make_config(source={"frames_received_path": str(received_path)})
    store = run_import(config, src, tmp_path / "s.zarr", progress=False).store
    check_record(store, activity="import", inputs=[src, received_path])
    # The inputs are found again by content hash after a move (the originals are gone).
    moved = tmp_path / "moved"
    moved.mkdir()
    src.rename(moved / "src.npy")
    received_path.rename(moved / "received.npy")
    report = rerun(store, tmp_path / "again.zarr", search=[moved])
    matches = {f.path: f.match for f in report.files}
    assert report.reproduced and matches.pop("zarr.json") in (Match.IDENTICAL, Match.EQUIVALENT)
    assert matches and set(matches.values()) == {Match.IDENTICAL}
    assert open_dataset(report.new).missing_indices() == [(1, 2)]


def test_binned_frames_keep_k0_and_record_the_raw_detector(
    tmp_path: Path, counts: np.ndarray, make_config: MakeConfig
) -> None:
    src = tmp_path / "bin2.npy"
    np.save(src, counts)  # 8×8 frames binned 2×2 from a 16×16 detector
    config = make_config(detector={"pixel_size_inv_A": 0.2, "bin_factor": 2})
    ds = open_dataset(run_import(config, src, tmp_path / "s.zarr", progress=False).store)
    det = ds.metadata.acquisition.detector
    assert det.shape == (16, 16) and det.pixel_size_inv_A == pytest.approx(0.1)
    assert det.center_px == (8.0, 8.0)  # the raw fftshift centre ...
    grid = ds.metadata.frame_grid
    assert grid.center_px == (3.75, 3.75) and grid.pixel_size_inv_A == pytest.approx(0.2)
    assert ds.metadata.compression.bin_factor == 2


@pytest.mark.parametrize(
    ("sections", "error", "message"),
    [
        ({"scan": {"shape": [5, 6]}}, DatasetError,
         r"\(6, 5\) scan positions, but \[scan\].shape = \[5, 6\].*axes that would fit"),
        ({"detector": {"pixel_size_mrad": 3.0}}, ConfigError,
         r"pixel_size_inv_A = 0.1 is 1.96.* mrad .* contradicts.*pixel_size_mrad = 3"),
        ({"detector": {"center_px": [9.0, 4.0]}}, ConfigError,
         r"center_px cy = 9 lies outside the 8-pixel frames"),
        ({"source": {"axes": ["scan_y", "ky", "kx"]}}, ConfigError, r"axes must order"),
        ({"source": {"dataset": "/data"}}, ConfigError, r"\.npy file, which holds one array"),
    ],
)  # fmt: skip
def test_bad_input_names_file_and_key(
    tmp_path: Path, counts: np.ndarray, make_config: MakeConfig, sections, error, message
) -> None:
    src = tmp_path / "counts.npy"
    np.save(src, counts)
    with pytest.raises(error, match=message):
        run_import(make_config(**sections), src, tmp_path / "s.zarr", progress=False)
    assert not (tmp_path / "s.zarr").exists()


def test_a_file_that_is_not_npy_is_named_so(tmp_path: Path, make_config: MakeConfig) -> None:
    src = tmp_path / "counts.npy"
    src.write_text("not an array")  # numpy alone would speak of pickled data
    with pytest.raises(DatasetError, match=r"counts.npy: not a .npy file \(no NumPy header"):
        run_import(make_config(), src, tmp_path / "s.zarr", progress=False)


def test_positions_file_must_match_the_raster(
    tmp_path: Path, counts: np.ndarray, make_config: MakeConfig
) -> None:
    from ptyflow.physics import scan_positions_A

    src = tmp_path / "counts.npy"
    np.save(src, counts)
    np.save(tmp_path / "pos.npy", scan_positions_A(SCAN, (0.5, 0.5), 12.0) + 7.0)
    ok = make_config(scan={"rotation_deg": 12.0, "positions_path": str(tmp_path / "pos.npy")})
    run_import(ok, src, tmp_path / "s.zarr", progress=False)
    wrong = make_config(scan={"positions_path": str(tmp_path / "pos.npy")})
    with pytest.raises(ConfigError, match=r"positions show fast step 0.5 Å, rotation 12°"):
        run_import(wrong, src, tmp_path / "t.zarr", progress=False)


def test_template_documents_every_key() -> None:
    template = REPO / "configs" / "import.toml"
    text = template.read_text()
    cfg = load_toml(template, ImportConfig)
    assert cfg.truth is not None  # the optional section is shown too
    assert undocumented_keys(cfg, text) == []


def test_truth_is_checked_before_the_store_and_replaced_with_it(
    tmp_path: Path, counts: np.ndarray, make_config: MakeConfig
) -> None:
    src, phase = tmp_path / "counts.npy", tmp_path / "phase.npy"
    np.save(src, counts)
    np.save(phase, np.zeros((40, 40), np.float32))  # 4 Å at 0.1 Å; the scan spans 2.5 × 2 Å
    truth = {"path": str(phase), "pixel_size_A": 0.1, "origin_A": [-1.95, -1.95]}
    outside = make_config(truth={**truth, "origin_A": [5.0, 0.0]})
    with pytest.raises(ConfigError, match=r"\[truth\].origin_A = \[5.0, 0.0\].*put the scan"):
        run_import(outside, src, tmp_path / "s.zarr", progress=False)
    assert not (tmp_path / "s.zarr").exists()  # nothing written
    first = run_import(make_config(truth=truth), src, tmp_path / "s.zarr", progress=False)
    assert first.truth is not None and (first.truth / "truth.json").is_file()
    again = run_import(make_config(truth=truth), src, tmp_path / "s.zarr", overwrite=True,
                       progress=False)  # fmt: skip
    assert again.truth == first.truth
    from ptyflow.dataset import read_truth

    assert read_truth(again.truth).origin_A == pytest.approx((-1.95, -1.95))
