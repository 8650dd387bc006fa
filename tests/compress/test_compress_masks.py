"""Mask presets in physical units, the label/dense choice, the measured centre, bad input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ptyflow.compress import Compressor, build_masks, measure_center
from ptyflow.config import validate_config
from ptyflow.config.compress import CompressConfig, VirtualConfig
from ptyflow.errors import ConfigError

from .conftest import DET, compressor, raw_metadata


def _pixel_angles() -> tuple[np.ndarray, np.ndarray]:
    """θ [mrad] and azimuth [deg] of every pixel, computed independently of the presets."""
    md = raw_metadata()
    lam = md.acquisition.beam.wavelength_A
    det = md.acquisition.detector
    y, x = np.indices(DET)
    ky = (y - det.center_px[0]) * det.pixel_size_inv_A
    kx = (x - det.center_px[1]) * det.pixel_size_inv_A
    return np.hypot(ky, kx) * lam * 1e3, np.degrees(np.arctan2(ky, kx)) % 360


def _masks(detectors: list[dict[str, Any]], **virtual: Any) -> Any:
    config = validate_config({"detectors": detectors, **virtual}, VirtualConfig)
    return build_masks(config, raw_metadata())


def test_default_is_4_rings_by_8_segments_tiling_the_disk_to_2_alpha() -> None:
    masks = _masks([{"kind": "segments", "edges_bf": [0, 0.5, 1, 1.5, 2]}])
    theta, phi = _pixel_angles()
    alpha = raw_metadata().acquisition.beam.semiangle_mrad
    assert masks.names[0] == "seg_r0_s0" and len(masks.names) == 32
    # every pixel inside 2α is in exactly one mask, none outside
    np.testing.assert_array_equal(masks.masks.sum(axis=0), (theta < 2 * alpha).astype(np.float32))
    for i, name in enumerate(masks.names):
        ring, seg = int(name[5]), int(name[8])
        t, p = theta[masks.masks[i] > 0], phi[masks.masks[i] > 0]
        assert np.all((t >= ring * alpha / 2) & (t < (ring + 1) * alpha / 2))
        assert np.all((p >= seg * 45) & (p < (seg + 1) * 45))


def test_annular_presets_follow_their_angles_in_mrad() -> None:
    theta, _ = _pixel_angles()
    masks = _masks(
        [
            {"kind": "bf"},
            {"kind": "abf"},
            {"kind": "adf", "inner_mrad": 30, "outer_mrad": 45},
            {"kind": "haadf", "name": "edge", "inner_mrad": 40},
            {"kind": "rings", "edges_mrad": [0, 10, 20]},
        ]
    )
    assert masks.names == ("bf", "abf", "adf", "edge", "ring0", "ring1")
    expected = [
        theta < 20,
        (theta >= 10) & (theta < 20),
        (theta >= 30) & (theta < 45),
        theta >= 40,  # no outer angle: out to the detector's corners
        theta < 10,
        (theta >= 10) & (theta < 20),
    ]
    for mask, want in zip(masks.masks, expected, strict=True):
        np.testing.assert_array_equal(mask > 0, want)


def test_dpc_quadrants_split_the_bright_field_disk() -> None:
    masks = _masks([{"kind": "dpc"}])
    theta, phi = _pixel_angles()
    assert masks.names == ("dpc_q0", "dpc_q1", "dpc_q2", "dpc_q3")
    np.testing.assert_array_equal(masks.masks.sum(axis=0) > 0, theta < 20)
    assert np.all(phi[masks.masks[1] > 0] >= 90) and np.all(phi[masks.masks[1] > 0] < 180)


def test_include_live_appends_the_live_maps_and_keeps_the_label_path() -> None:
    comp = compressor({"kind": "virtual", "virtual": {"include_live": True}})
    assert comp.mask_names[-5:] == ("live_bf", "live_adf", "live_sum", "live_ky", "live_kx")
    assert comp.path == "label" and comp.out_shape == (37,)


def test_off_detector_preset_is_an_error_naming_preset_and_angle() -> None:
    with pytest.raises(
        ConfigError, match=r"detectors\[1\] \(haadf\): outer angle 200 mrad lies off"
    ):
        _masks([{"kind": "bf"}, {"kind": "haadf", "inner_mrad": 70, "outer_mrad": 200}])
    with pytest.raises(ConfigError, match=r"detectors\[0\] \(segments\): outer angle 60"):
        _masks([{"kind": "segments", "edges_bf": [0, 1, 3]}])


@pytest.mark.parametrize(
    ("detectors", "message"),
    [
        ([{"kind": "rings", "edges_mrad": [0.5, 0.6]}], r"mask .ring0. covers no pixel"),
        ([{"kind": "bf"}, {"kind": "bf"}], r"mask names used twice: bf"),
    ],
)
def test_empty_or_duplicate_masks_are_errors(detectors: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _masks(detectors)


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.ones((2, 10, 48)), r"shape \(2, 10, 48\), expected \(n_masks, 48, 48\)"),
        (np.full((1, 48, 48), np.nan), r"NaN or infinite"),
    ],
)
def test_bad_custom_masks_name_the_key(tmp_path: Path, array: np.ndarray, message: str) -> None:
    path = tmp_path / "m.npy"
    np.save(path, array)
    with pytest.raises(
        ConfigError, match=r"\[compress.virtual\].detectors\[0\].path: .*" + message
    ):
        _masks([{"kind": "custom", "path": str(path)}])


def test_overlapping_masks_take_the_dense_path_and_are_refused_on_the_label_path() -> None:
    overlapping = {"detectors": [{"kind": "bf"}, {"kind": "abf"}]}
    assert compressor({"kind": "virtual", "virtual": overlapping}).path == "dense"
    config = validate_config(
        {"kind": "virtual", "virtual": {**overlapping, "path": "label"}}, CompressConfig
    )
    with pytest.raises(ConfigError, match=r'\[compress.virtual\].path = "label" needs disjoint'):
        Compressor(config, raw_metadata(), np.uint16)


def test_bin_factor_must_divide_the_detector() -> None:
    config = validate_config({"kind": "bin", "bin": {"factor": 5}}, CompressConfig)
    with pytest.raises(ConfigError, match=r"\[compress.bin\].factor: 5 does not divide .*48, 48"):
        Compressor(config, raw_metadata(), np.uint16)


@pytest.mark.parametrize("centre", [(24.0, 24.0), (23.3, 25.6), (26.71, 21.18)])
def test_measured_centre_is_sub_pixel(centre: tuple[float, float]) -> None:
    # a disk of radius 9.4 px rendered with 8× supersampling, so its edge pixels are partial
    sub = 8
    y, x = (np.indices((48 * sub, 48 * sub)) + 0.5) / sub - 0.5
    disk = (np.hypot(y - centre[0], x - centre[1]) <= 9.4).astype(float)
    frame = disk.reshape(48, sub, 48, sub).mean(axis=(1, 3)) * 100 + 1.0
    cy, cx = measure_center(frame)
    assert abs(cy - centre[0]) < 0.05 and abs(cx - centre[1]) < 0.05


def test_measured_centre_moves_the_masks_and_frame_grid() -> None:
    config = validate_config({"kind": "virtual", "center": "measure"}, CompressConfig)
    with pytest.raises(ConfigError, match="measure"):
        Compressor(config, raw_metadata(), np.uint16)
    comp = Compressor(config, raw_metadata(), np.uint16, center_px=(23.5, 24.5))
    assert comp.metadata.acquisition.detector.center_px == (23.5, 24.5)
    assert comp.masks is not None
    weights = comp.masks.sum(axis=0)
    y, x = np.indices(DET)
    assert (weights * y).sum() / weights.sum() == pytest.approx(23.5, abs=0.05)
    assert (weights * x).sum() / weights.sum() == pytest.approx(24.5, abs=0.05)


@pytest.mark.parametrize(
    ("override", "where"),
    [
        ('compress.bin.factor="2"', "[compress.bin].factor"),
        ("compress.bin.factor=1", "[compress.bin].factor"),
        ('compress.kind="crop"', "[compress].kind"),
        ("compress.virtual.detectors=[]", "[compress.virtual].detectors"),
        (
            'compress.virtual.detectors=[{kind="rings", edges_bf=[1.0, 0.5]}]',
            "[compress.virtual.detectors[0]]",
        ),
        ('compress.virtual.detectors=[{kind="adf"}]', "[compress.virtual.detectors[0]]"),
    ],
)
def test_bad_config_values_name_the_key(override: str, where: str) -> None:
    from ptyflow.config import load_toml
    from ptyflow.config.compress import CompressCommandConfig

    template = Path(__file__).resolve().parents[2] / "configs" / "compress.toml"
    with pytest.raises(ConfigError) as err:
        load_toml(template, CompressCommandConfig, [override])
    assert f"--set {override}: {where}" in str(err.value)
