"""The CPU path's fused numba kernels (``physics.fused``, ``reconstruct._amplitude``) give
the torch path's values and gradients: the torch path is itself checked against plain
autograd in tests/physics."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import torch

from ptyflow.physics import (
    far_field_intensity,
    multislice,
    object_patches,
    shift_ramps,
    shifted_probes,
)
from ptyflow.physics import fused as fused_module
from ptyflow.physics.fused import exit_waves, probes_at
from ptyflow.reconstruct._amplitude import amplitude_loss
from ptyflow.reconstruct._measure import LOSSES, data_error
from ptyflow.reconstruct._model import PtychoModel


def _complex(rng: np.random.Generator, *shape: int) -> torch.Tensor:
    z = rng.normal(size=shape) + 1j * rng.normal(size=shape)
    return torch.from_numpy(z.astype(np.complex64))


@pytest.mark.parametrize(("n_slices", "n_modes"), [(1, 1), (3, 2)])
def test_fused_forward_and_gradients_equal_the_torch_path(n_slices: int, n_modes: int) -> None:
    rng = np.random.default_rng(3)
    n, b = 16, 6
    probe = _complex(rng, n_modes, n, n)
    obj = torch.exp(0.3 * _complex(rng, n_slices, 30, 27))
    shift = torch.from_numpy(rng.uniform(-0.5, 0.5, (b, 2)).astype(np.float32))
    start = torch.from_numpy(rng.integers(0, 11, (b, 2)))
    props = torch.exp(1j * _complex(rng, n_slices - 1, n, n).real) if n_slices > 1 else None
    root = torch.from_numpy(rng.random((b, n, n)).astype(np.float32))
    results = []
    for path in ("fused", "torch"):
        leaves = [t.clone().requires_grad_() for t in (probe, obj)]
        if path == "fused":
            waves = probes_at(leaves[0], shift)
            wave_k = exit_waves(waves, leaves[1], start, props)
            loss, error = amplitude_loss(wave_k, root)
        else:
            waves = shifted_probes(leaves[0], shift_ramps(shift, (n, n)))
            wave_k = multislice(waves, object_patches(leaves[1], start, n), props)
            model = far_field_intensity(wave_k, None)
            loss = LOSSES["amplitude"](model, root**2, root)
            error = data_error(model.detach(), root)
        (3.0 * loss).backward()  # a scale the backward must pass on
        results.append([wave_k.detach(), loss.detach(), error, *(t.grad for t in leaves)])
    for fused, reference in zip(*results, strict=True):
        assert fused is not None and reference is not None
        torch.testing.assert_close(
            fused.resolve_conj().to(reference.dtype), reference, rtol=2e-4, atol=2e-5
        )


def test_fused_patches_outside_the_object_are_refused() -> None:
    waves = torch.ones((1, 1, 8, 8), dtype=torch.complex64)
    obj = torch.ones((1, 12, 12), dtype=torch.complex64)
    exit_waves(waves, obj, torch.tensor([[4, 4]]), None)  # the last patch that fits
    for start in ([5, 0], [0, 5], [-1, 0]):
        with pytest.raises(ValueError, match="leave the object of"):
            exit_waves(waves, obj, torch.tensor([start]), None)


def test_tensors_on_other_devices_take_the_torch_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """What runs on CUDA, checked without a GPU on the meta device (tensors without data:
    a ``.numpy()`` of one fails): the forward model and its backward never reach a numba
    kernel, and the amplitude loss is fused only on the CPU."""

    def refuse(*args: Any) -> None:
        raise AssertionError("a numba kernel was given tensors of another device")

    for kernel in ("gather_multiply", "slice_adjoint", "ramp_multiply", "ramp_adjoint_sum"):
        monkeypatch.setattr(fused_module, kernel, refuse)
    meta, c64 = torch.device("meta"), torch.complex64
    probe = torch.empty(2, 32, 32, dtype=c64, device=meta, requires_grad=True)
    obj = torch.empty(3, 80, 80, dtype=c64, device=meta, requires_grad=True)
    starts = torch.zeros(16, 2, dtype=torch.int64, device=meta)
    propagators = torch.empty(2, 32, 32, dtype=c64, device=meta)
    waves = probes_at(probe, torch.empty(16, 2, device=meta))
    waves_k = exit_waves(waves, obj, starts, propagators)
    waves_k.abs().sum().backward()
    assert waves_k.shape == (16, 2, 32, 32) and waves_k.device == meta
    assert obj.grad is not None and obj.grad.device == meta
    assert probe.grad is not None and probe.grad.device == meta

    fused_amplitude = PtychoModel.fused_amplitude.fget
    assert fused_amplitude is not None
    pixelated = SimpleNamespace(identity=True)
    assert not fused_amplitude(SimpleNamespace(measurement=pixelated, phase=obj.real))
    assert fused_amplitude(SimpleNamespace(measurement=pixelated, phase=torch.zeros(1)))
