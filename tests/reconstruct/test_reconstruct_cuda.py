"""CUDA: the shared forward model and a reconstruction agree with the CPU (skipped without
a CUDA device; ``benchmarks/gpu_check.sh`` runs them on a GPU machine)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ptyflow.dataset import create_dataset
from ptyflow.physics import (
    far_field_intensity,
    multislice,
    object_patches,
    shift_ramps,
    shifted_probes,
)
from ptyflow.reconstruct import open_result, run_reconstruction
from ptyflow.testing import make_metadata

from .conftest import make_config

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device"),
]


def test_forward_model_matches_cpu() -> None:
    rng = np.random.default_rng(0)
    probe = torch.from_numpy((rng.normal(size=(2, 32, 32)) + 1j).astype(np.complex64))
    obj = torch.from_numpy(np.exp(1j * rng.normal(size=(3, 80, 80))).astype(np.complex64))
    shift = torch.from_numpy(rng.random((16, 2)) * 3)
    start = torch.from_numpy(rng.integers(0, 40, (16, 2)))
    prop = torch.from_numpy(np.exp(1j * rng.normal(size=(2, 32, 32))).astype(np.complex64))

    def model(device: str) -> np.ndarray:
        waves = shifted_probes(probe.to(device), shift_ramps(shift.to(device), (32, 32)))
        patches = object_patches(obj.to(device), start.to(device), 32)
        return far_field_intensity(multislice(waves, patches, prop.to(device)), None).cpu().numpy()

    np.testing.assert_allclose(model("cuda"), model("cpu"), rtol=2e-4, atol=1e-5)


def test_reconstruction_on_cuda_matches_cpu(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    meta = make_metadata((8, 8), (32, 32), pixel_size_inv_A=0.15, bit_depth=32)
    with create_dataset(tmp_path / "s.zarr", meta, dtype=np.float32) as w:
        w.write_frames(0, rng.poisson(20.0, size=(64, 32, 32)).astype(np.float32))
    results = {}
    for device in ("cpu", "cuda"):
        cfg = make_config("optimizer.iterations=2", f"engine.device={device!r}")
        run_reconstruction(tmp_path / "s.zarr", cfg, tmp_path / f"{device}.zarr", progress=False)
        results[device] = open_result(tmp_path / f"{device}.zarr")
    np.testing.assert_allclose(
        np.angle(results["cuda"].object), np.angle(results["cpu"].object), atol=2e-3
    )
