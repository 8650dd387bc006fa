"""The shared abTEM dataset enters ptyflow through `ptyflow import` and configs/import.toml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ptyflow.config import load_toml
from ptyflow.config.import_ import ImportConfig
from ptyflow.dataset import open_dataset, read_truth
from ptyflow.ingest import run_import

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.shared_data, pytest.mark.slow]


@pytest.fixture
def config(srtio3_dir: Path) -> ImportConfig:
    return load_toml(REPO / "configs" / "import.toml", ImportConfig)  # paths: from configs/


def test_noisy_counts_exact_with_truth_in_the_scan_frame(
    srtio3_dir: Path, srtio3_meta: dict[str, Any], config: ImportConfig, tmp_path: Path
) -> None:
    result = run_import(config, srtio3_dir / "dp_noisy.npy", tmp_path / "sto.zarr",
                        progress=False)  # fmt: skip
    assert result.dtype == np.uint16  # float32 Poisson counts, stored exactly
    stored = np.asarray(open_dataset(result.store).data_array[...])
    np.testing.assert_array_equal(stored, np.load(srtio3_dir / "dp_noisy.npy"))
    assert result.truth is not None
    truth = read_truth(result.truth)
    assert truth.periodic and truth.origin_A == pytest.approx((-19.325, -19.325))
    # The truth's positions are the reference's own positions, in the reference's GT frame.
    reference = np.load(srtio3_dir / "scan_positions_ang.npy")
    truth_frame = np.load(result.truth / "scan_positions_A.npy")
    np.testing.assert_allclose(truth_frame, reference, atol=1e-5)
    assert truth.pixel_size_A == srtio3_meta["ground_truth"]["gt_phase_fine.npy"]["pixel_A"]


def test_binned_and_noise_free_variants(
    srtio3_dir: Path, srtio3_meta: dict[str, Any], config: ImportConfig, tmp_path: Path
) -> None:
    binned = srtio3_meta["binned_variant"]
    config_bin2 = config.model_copy(
        update={
            "truth": None,
            "detector": config.detector.model_copy(
                update={
                    "pixel_size_inv_A": binned["detector_pixel_inv_A"],
                    "pixel_size_mrad": binned["detector_pixel_mrad"],
                    "center_px": tuple(binned["optical_axis_pixel_yx"]),
                    "bin_factor": binned["binning"],
                }
            ),
        }
    )
    ds = open_dataset(
        run_import(config_bin2, srtio3_dir / binned["file"], tmp_path / "b.zarr",
                   progress=False).store
    )  # fmt: skip
    det = ds.metadata.acquisition.detector
    assert det.shape == (64, 64) and det.center_px == (32.0, 32.0)
    assert det.pixel_size_inv_A == pytest.approx(srtio3_meta["detector_pixel_inv_A"])
    assert ds.metadata.frame_grid.center_px == (15.75, 15.75)
    free = run_import(
        config.model_copy(update={"truth": None}),
        srtio3_dir / "dp_noisefree.npy",
        tmp_path / "f.zarr",
        progress=False,
    )
    assert free.dtype == np.float32  # expected counts are not integers
