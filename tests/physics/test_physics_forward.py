"""The shared torch forward model: χ differentiable in C_nm, exact shifts, binning, modes."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from ptyflow.physics import (
    Aberrations,
    DetectorBinning,
    aberration_coefficients,
    aberration_phase_torch,
    far_field_intensity,
    multislice,
    object_patches,
    shift_ramps,
    shifted_probes,
)

LAM = 0.0196875


def test_chi_gradient_in_defocus_is_pi_lambda_k2() -> None:
    mags, phis = aberration_coefficients(Aberrations(C10_A=-50.0, C30_A=1e4))
    c = torch.tensor(mags, requires_grad=True)
    ky = torch.linspace(-1, 1, 7, dtype=torch.float64)[:, None]
    kx = torch.linspace(-0.5, 0.8, 5, dtype=torch.float64)[None, :]
    aberration_phase_torch(c, torch.tensor(phis), ky, kx, LAM).sum().backward()
    assert c.grad is not None
    np.testing.assert_allclose(c.grad[0].item(), (np.pi * LAM * (ky**2 + kx**2)).sum().item())
    # Cs: d chi / d C30 = (2π/λ) α⁴/4
    alpha = LAM * torch.sqrt(ky**2 + kx**2)
    expected = (2 * np.pi / LAM * alpha**4 / 4).sum().item()
    np.testing.assert_allclose(c.grad[4].item(), expected, rtol=1e-12)


def test_integer_shift_ramp_is_a_roll_and_patches_index_the_object() -> None:
    rng = np.random.default_rng(0)
    probe = torch.from_numpy(rng.normal(size=(1, 16, 16)).astype(np.complex64))
    shift = torch.tensor([[3.0, -2.0]], dtype=torch.float64)
    moved = shifted_probes(probe, shift_ramps(shift, (16, 16)))[0, 0]
    expected = torch.roll(torch.fft.ifft2(probe[0], norm="ortho"), (3, -2), dims=(0, 1))
    torch.testing.assert_close(moved, expected, atol=1e-5, rtol=1e-5)
    obj = torch.arange(2 * 20 * 30).reshape(2, 20, 30)
    patches = object_patches(obj, torch.tensor([[2, 5], [0, 0]]), 4)
    assert patches.shape == (2, 2, 4, 4)
    torch.testing.assert_close(patches[1, 0], obj[1, 2:6, 5:9])


def test_modes_add_incoherently_and_binning_sums_blocks() -> None:
    rng = np.random.default_rng(1)
    waves = torch.from_numpy((rng.normal(size=(3, 2, 8, 8)) + 0j).astype(np.complex64))
    patches = torch.ones((1, 3, 8, 8), dtype=torch.complex64)
    wave_k = multislice(waves.clone(), patches, None)
    total = far_field_intensity(wave_k, None)
    single = [
        far_field_intensity(multislice(waves[:, m : m + 1].clone(), patches, None), None)
        for m in range(2)
    ]
    torch.testing.assert_close(total, single[0] + single[1])
    binned = DetectorBinning((4, 4), 2, 8)(total)
    shifted = torch.fft.fftshift(total, dim=(-2, -1))
    torch.testing.assert_close(binned, shifted.reshape(3, 4, 2, 4, 2).sum(dim=(2, 4)))


def _autograd_reference(
    probe: torch.Tensor, ramps: torch.Tensor, obj: torch.Tensor, start: torch.Tensor, props: Any
) -> torch.Tensor:
    """The same forward model in plain torch ops, differentiated by autograd itself."""
    n = probe.shape[-1]
    wave = torch.fft.ifft2(probe[None] * ramps[:, None], norm="ortho")
    for s in range(obj.shape[0]):
        patch = torch.stack([obj[s, y : y + n, x : x + n] for y, x in start.tolist()])
        wave_k = torch.fft.fft2(wave * patch[:, None], norm="ortho")
        if s < obj.shape[0] - 1:
            wave = torch.fft.ifft2(wave_k * props[s], norm="ortho")
    return (wave_k.abs() ** 2).sum(dim=1)


@pytest.mark.parametrize(("n_slices", "n_modes"), [(1, 1), (3, 2)])
def test_hand_written_backward_equals_autograd(n_slices: int, n_modes: int) -> None:
    """The forward model's own backward (conjugate-carrying multislice, patch scatter, probe
    shift) gives autograd's gradients for the probe, the shifts' ramps and the object."""
    rng = np.random.default_rng(2)
    n = 8

    def complex_normal(*shape: int) -> torch.Tensor:
        return torch.from_numpy(rng.normal(size=shape) + 1j * rng.normal(size=shape))

    probe = complex_normal(n_modes, n, n)
    ramps = torch.exp(1j * complex_normal(5, n, n).real)
    obj = torch.exp(0.3 * complex_normal(n_slices, 14, 15))
    start = torch.from_numpy(rng.integers(0, 6, (5, 2)))
    props = torch.exp(1j * complex_normal(n_slices - 1, n, n).real) if n_slices > 1 else None
    weights = torch.from_numpy(rng.random((5, n, n)))
    grads = []
    for model in ("ptyflow", "reference"):
        leaves = [t.clone().requires_grad_() for t in (probe, ramps, obj)]
        if model == "ptyflow":
            waves = shifted_probes(leaves[0], leaves[1])
            patches = object_patches(leaves[2], start, n)
            intensity = far_field_intensity(multislice(waves, patches, props), None)
        else:
            intensity = _autograd_reference(*leaves, start, props)
        (intensity * weights).sum().backward()
        grads.append([t.grad for t in leaves])
    for mine, reference in zip(*grads, strict=True):
        torch.testing.assert_close(mine.resolve_conj(), reference, rtol=1e-10, atol=1e-10)
