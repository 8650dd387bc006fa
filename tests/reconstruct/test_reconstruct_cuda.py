"""CUDA: the shared forward model and a reconstruction agree with the CPU (skipped without
a CUDA device; ``benchmarks/gpu_check.sh`` runs them on a GPU machine)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ptyflow.config import validate_config
from ptyflow.config.simulate import SimulateConfig
from ptyflow.physics import (
    far_field_intensity,
    multislice,
    object_patches,
    shift_ramps,
    shifted_probes,
)
from ptyflow.reconstruct import open_result, run_reconstruction
from ptyflow.simulate import run_simulation

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


def _simulated_store(path: Path) -> Path:
    """A thin SrTiO3 specimen, 8×8 scan, Poisson noise: data a model can explain, so the
    gradients are signal rather than the fit to counts where the model is dark."""
    base = {
        "specimen": {"kind": "crystal", "crystal": "SrTiO3_001", "repeats": [3, 3, 1]},
        "scan": {"shape": [8, 8], "step_A": [0.5, 0.5]},
        "dose": {"dose_e_per_A2": 1e5, "poisson_noise": True},
        "numerics": {"oversampling": 1},
    }
    return run_simulation(validate_config(base, SimulateConfig), path, progress=False).store


def test_reconstruction_on_cuda_matches_cpu(tmp_path: Path) -> None:
    """Three SGD iterations (the probe refined in the last two) agree with the CPU.

    SGD, not Adam: Adam's first steps are ±lr wherever a gradient is non-zero, so a gradient
    that is rounding noise (a dark probe pixel in k, the faint edge of the illuminated field)
    takes a full step of either sign and the runs differ by lr for reasons unrelated to the
    CUDA path. SGD's step is proportional to the gradient, so rounding stays rounding. On the
    CPU, perturbing the data by 1e-6 of their maximum moved the phase by 1.4e-3 rad and the
    losses by 8e-4; a wrong path moved them by far more (sub-pixel shift of the other sign:
    0.03 rad and 1e-2; transposed frames: 0.1 rad and 6e-2; frames rolled a pixel: 4.5×)."""
    store = _simulated_store(tmp_path / "s.zarr")
    results, losses = {}, {}
    for device in ("cpu", "cuda"):
        cfg = make_config(
            "optimizer.iterations=3",
            "optimizer.kind='sgd'",
            "optimizer.lr_object=10.0",
            f"engine.device={device!r}",
        )
        run = run_reconstruction(store, cfg, tmp_path / f"{device}.zarr", progress=False)
        results[device] = open_result(tmp_path / f"{device}.zarr")
        losses[device] = run.loss
    cpu, cuda = results["cpu"], results["cuda"]
    np.testing.assert_allclose(losses["cuda"], losses["cpu"], rtol=2e-3)
    phase = np.angle(cpu.object)
    assert np.abs(phase).max() > 0.05, "the comparison needs a phase that moved"
    np.testing.assert_allclose(np.angle(cuda.object), phase, atol=5e-3)
    np.testing.assert_allclose(cuda.probe, cpu.probe, atol=1e-3 * np.abs(cpu.probe).max())
