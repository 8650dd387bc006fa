"""``ptyflow compress``: the new store holds exactly what was kept, and says so."""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args

import numpy as np
import pytest

from ptyflow.compress import compress_store
from ptyflow.compress._reference import bin_numpy, masks_numpy
from ptyflow.config import load_toml, validate_config
from ptyflow.config.compress import CompressCommandConfig, DetectorPreset
from ptyflow.dataset import (
    DatasetState,
    live_detectors,
    open_dataset,
    plot_overview,
    validate_dataset,
)
from ptyflow.errors import ConfigError, DatasetError
from ptyflow.provenance import content_hash, read_record
from ptyflow.testing import make_metadata, run_cli, undocumented_keys, write_store

from .conftest import DET, disk_frames, raw_metadata

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
SKIP = (3, 17, 40)  # frames that never arrived


@pytest.fixture
def raw_store(tmp_path: Path) -> tuple[Path, np.ndarray]:
    frames = disk_frames(8 * 12, np.uint16, seed=4)
    frames[5] = 4095  # a saturated frame
    md = raw_metadata(scan=(8, 12))
    path = write_store(
        tmp_path / "raw.zarr", md, frames, skip=SKIP, shard_nav=(4, 8), chunk_nav=(2, 4)
    )
    return path, frames


def _config(**compress: Any) -> CompressCommandConfig:
    return validate_config({"compress": compress}, CompressCommandConfig)


def _live_reference(frames: np.ndarray, md: Any) -> dict[str, np.ndarray]:
    """The live images computed independently, in float64, from ``frames`` on md's grid."""
    maps = {k: v.astype(np.float64) for k, v in live_detectors(md).items()}
    s = {k: np.einsum("nyx,yx->n", frames.astype(np.float64), m) for k, m in maps.items()}
    return {
        "bf": s["bf"],
        "adf": s["adf"],
        "com_y": s["ky"] / s["sum"],
        "com_x": s["kx"] / s["sum"],
    }


def test_bin_store_holds_exact_sums_recalibrated_grid_and_missing_frames(
    raw_store: tuple[Path, np.ndarray], tmp_path: Path
) -> None:
    src, frames = raw_store
    result = compress_store(src, tmp_path / "bin.zarr", _config(kind="bin"), progress=False)
    ds = open_dataset(result.store)
    assert validate_dataset(result.store) == []
    assert ds.state is DatasetState.INCOMPLETE
    assert ds.metadata.compression.bin_factor == 2 and ds.dtype == np.uint16  # 12 bit × 4
    grid, raw = ds.metadata.frame_grid, raw_metadata().frame_grid
    assert grid.shape == (24, 24) and grid.pixel_size_inv_A == 2 * raw.pixel_size_inv_A
    assert grid.center_px == ((raw.center_px[0] + 0.5) / 2 - 0.5,) * 2
    received = ds.frames_received.reshape(-1)
    assert sorted(np.flatnonzero(~received)) == list(SKIP)
    data = np.asarray(ds.data_array[...]).reshape(-1, 24, 24)
    binned = bin_numpy(frames, 2)
    np.testing.assert_array_equal(data[received], binned[received])
    live = ds.live_images
    for name, values in _live_reference(binned, ds.metadata).items():
        image = live[name].reshape(-1)
        assert np.isnan(image[~received]).all()
        np.testing.assert_allclose(image[received], values[received], rtol=1e-6, atol=1e-6)
    record = read_record(result.store)
    assert record.activity == "compress"
    assert record.inputs[0].content_hash == content_hash(src)
    assert record.outputs[0].content_hash == content_hash(result.store)


def test_virtual_store_stores_masks_signals_and_exact_live_images(
    raw_store: tuple[Path, np.ndarray], tmp_path: Path
) -> None:
    src, frames = raw_store
    config = load_toml(CONFIGS / "compress.toml", CompressCommandConfig, ["compress.kind=virtual"])
    result = compress_store(src, tmp_path / "seg.zarr", config, progress=False)
    assert result.mask_path == "label"
    ds = open_dataset(result.store)
    assert validate_dataset(result.store) == []
    masks = ds.masks
    assert masks is not None and masks.shape == (32, *DET)
    assert ds.metadata.compression.mask_names[:2] == ("seg_r0_s0", "seg_r0_s1")
    received = ds.frames_received.reshape(-1)
    data = np.asarray(ds.data_array[...]).reshape(-1, 32)
    np.testing.assert_array_equal(data[received], masks_numpy(frames, masks)[received])
    assert np.isnan(data[~received]).all()
    png = plot_overview(ds, tmp_path / "seg.png")  # live images and the mask layout
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # 32 segments alone do not span the live detectors; the compression pass makes them exact
    live = ds.live_images
    for name, values in _live_reference(frames, ds.metadata).items():
        np.testing.assert_allclose(
            live[name].reshape(-1)[received], values[received], rtol=1e-6, atol=1e-6
        )


def test_series_stays_a_series_and_compressed_input_is_refused(tmp_path: Path) -> None:
    md = make_metadata((4, 4), DET, n_time=3)
    frames = disk_frames(48, np.uint16, seed=6)
    src = write_store(tmp_path / "series.zarr", md, frames, skip=(20,))
    out = compress_store(src, tmp_path / "v.zarr", _config(kind="virtual"), progress=False).store
    ds = open_dataset(out)
    assert ds.data_array.shape == (3, 4, 4, 32) and ds.n_missing == 1
    data = np.asarray(ds.data_array[...]).reshape(48, 32)
    np.testing.assert_array_equal(data[21:], masks_numpy(frames[21:], ds.masks))
    with pytest.raises(DatasetError, match="is the input store"):
        compress_store(src, src, _config(kind="bin"), overwrite=True, progress=False)
    assert open_dataset(src).n_missing == 1  # untouched
    with pytest.raises(DatasetError, match="only full frames"):
        compress_store(out, tmp_path / "again.zarr", _config(kind="bin"), progress=False)


def test_measured_centre_is_stored(tmp_path: Path) -> None:
    frames = np.roll(disk_frames(64, np.uint16, seed=5), (1, -2), axis=(1, 2))  # disk at 25, 22
    src = write_store(tmp_path / "raw.zarr", raw_metadata(), frames)
    result = compress_store(src, tmp_path / "c.zarr", _config(center="measure"), progress=False)
    cy, cx = open_dataset(result.store).metadata.acquisition.detector.center_px
    assert abs(cy - 25) < 0.1 and abs(cx - 22) < 0.1


def test_cli_compress_and_info(raw_store: tuple[Path, np.ndarray], tmp_path: Path) -> None:
    src, _ = raw_store
    out = tmp_path / "seg.zarr"
    args = ("--config", CONFIGS / "compress.toml", "--no-progress")
    done = run_cli(
        "compress", src, "--out", out, *args, "--set", "compress.kind=virtual", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    info = run_cli("info", out, cwd=tmp_path)
    assert info.returncode == 0, info.stderr
    assert "virtual (32 masks on the raw detector, in masks/: seg_r0_s0" in " ".join(
        info.stdout.split()
    )
    bad = run_cli(
        "compress",
        src,
        "--out",
        tmp_path / "b.zarr",
        *args,
        "--set",
        "compress.bin.factor=5",
        cwd=tmp_path,
    )
    assert bad.returncode == 2
    assert (
        "[compress.bin].factor: 5 does not divide" in bad.stderr and "Traceback" not in bad.stderr
    )
    assert not (tmp_path / "b.zarr").exists()
    typo = run_cli(
        "compress", src, "--out", tmp_path / "t.zarr", "--set", "compress.bin.fator=2", cwd=tmp_path
    )
    assert typo.returncode == 2 and "did you mean 'factor'" in typo.stderr


def test_cli_reports_kernel_cache_status(tmp_path: Path) -> None:
    done = run_cli("info", "--kernels", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())
    for kernel in ("bin_live", "dense_live", "label_live", "moments"):
        assert kernel in text
    assert "from disk cache" in text and "Numba cache:" in text


def test_template_documents_every_key() -> None:
    text = (CONFIGS / "compress.toml").read_text()
    cfg = load_toml(CONFIGS / "compress.toml", CompressCommandConfig)
    assert cfg == CompressCommandConfig()  # the template states the defaults
    assert undocumented_keys(cfg, text) == []
    # the other presets' keys are documented in comments
    for preset in get_args(get_args(DetectorPreset)[0]):
        for key in preset.model_fields:
            assert key in text, (preset.__name__, key)
    for kind in ("bf", "abf", "adf", "haadf", "rings", "dpc", "custom"):
        assert f'kind = "{kind}"' in text


def test_memory_does_not_grow_with_the_store(
    raw_store: tuple[Path, np.ndarray], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tracemalloc

    from ptyflow.dataset._bands import _SPARE_BANDS

    # Each hashing thread holds a 1 MiB read buffer, and how many overlap at the peak
    # depends on thread timing (up to one per core): one thread makes that one buffer.
    monkeypatch.setattr("ptyflow.provenance._hashing.default_threads", lambda: 1)
    # first use (imports, caches) untraced
    compress_store(raw_store[0], tmp_path / "warm.zarr", _config(kind="bin"), progress=False)

    def peak_bytes(scan_rows: int) -> int:
        md = raw_metadata(scan=(scan_rows, 8))
        frames = disk_frames(scan_rows * 8, np.uint16, seed=scan_rows)
        src = write_store(tmp_path / f"r{scan_rows}.zarr", md, frames, shard_nav=(4, 8))
        tracemalloc.start()
        compress_store(src, tmp_path / f"c{scan_rows}.zarr", _config(kind="bin"), progress=False)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak

    # One shard per band of the output (4 scan rows × 8, frames binned to 24×24 uint16).
    # The small store is 4 bands, so both hold the writer's full complement of bands
    # (docs/dataset-store.md §8); the large one is 28 bands more. Whether a finished band
    # is reused or a new one allocated depends on when the writer's threads let go of it,
    # so the slack is every band it may hold at once: 2 open, the spares, 2 queued to its
    # threads and 1 being acknowledged. Per-shard bookkeeping (manifest entries) stays
    # well inside it; keeping every band (28 bands more) or reading the whole store
    # (28 raw shards, 4× more) would not.
    band_bytes = 4 * 8 * 24 * 24 * np.dtype(np.uint16).itemsize
    slack = (2 + _SPARE_BANDS + 2 + 1) * band_bytes
    small, large = peak_bytes(16), peak_bytes(128)
    assert large - small < slack, (small, large, slack)


def test_custom_masks_resolve_against_the_config_and_are_recorded_inputs(
    raw_store: tuple[Path, np.ndarray], tmp_path: Path
) -> None:
    src, frames = raw_store
    conf_dir = tmp_path / "conf"
    conf_dir.mkdir()
    masks = np.random.default_rng(2).random((3, *DET)).astype(np.float32)
    np.save(conf_dir / "mine.npy", masks)
    toml = conf_dir / "c.toml"
    toml.write_text(
        '[compress]\nkind = "virtual"\n'
        '[[compress.virtual.detectors]]\nkind = "custom"\npath = "mine.npy"\n'
    )
    config = load_toml(toml, CompressCommandConfig)
    result = compress_store(src, tmp_path / "mine.zarr", config, progress=False)
    assert result.mask_path == "dense"
    ds = open_dataset(result.store)
    np.testing.assert_array_equal(ds.masks, masks)
    received = ds.frames_received.reshape(-1)
    data = np.asarray(ds.data_array[...]).reshape(-1, 3)
    np.testing.assert_allclose(data[received], masks_numpy(frames, masks)[received], rtol=1e-5)
    inputs = read_record(result.store).inputs
    assert [Path(i.path).name for i in inputs] == ["raw.zarr", "mine.npy"]
    assert inputs[1].content_hash == content_hash(conf_dir / "mine.npy")
    toml.write_text(toml.read_text().replace("mine.npy", "gone.npy"))
    with pytest.raises(ConfigError, match=r"detectors\[0\]\]\.path: .*gone.npy' not found"):
        load_toml(toml, CompressCommandConfig)


def test_writer_takes_given_live_sums_and_computes_the_rest(tmp_path: Path) -> None:
    from ptyflow.dataset import create_dataset

    md = raw_metadata(scan=(2, 4))
    frames = disk_frames(8, np.uint16, seed=7)
    given = np.tile([7.0, 3.0, 10.0, 20.0, -5.0], (4, 1))  # not what the frames hold
    with create_dataset(tmp_path / "w.zarr", md, dtype=np.uint16) as writer:
        with pytest.raises(DatasetError, match=r"live sums from index 0: shape \(4, 4\)"):
            writer.write_frames(0, frames[:4], live=given[:, :4])
        writer.write_frames(0, frames[:4], live=given)
        writer.write_frames(4, frames[4:])  # no sums: the writer computes them
    live = open_dataset(tmp_path / "w.zarr").live_images
    np.testing.assert_array_equal(live["bf"][0], 7.0)
    np.testing.assert_array_equal(live["com_y"][0], 2.0)
    np.testing.assert_array_equal(live["com_x"][0], -0.5)
    reference = _live_reference(frames[4:], md)
    np.testing.assert_allclose(live["bf"][1], reference["bf"], rtol=1e-6)
