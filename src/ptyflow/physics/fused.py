"""The forward model's steps as the reconstructor calls them, fused on the CPU.

:func:`probes_at` (shift the probe modes to their positions) and :func:`exit_waves` (cut
the object patches and run the multislice) compute what :func:`~ptyflow.physics.forward.
shifted_probes`, :func:`~ptyflow.physics.forward.object_patches` and
:func:`~ptyflow.physics.forward.multislice` compute, and on other devices they are exactly
those. On the CPU a batch's elementwise work is memory-bound: torch pays a pass over the
batch per operation (and builds a flat index per slice), so numba kernels
(``physics._kernels``) do each step in one pass, gathering the patch inside the product and
scattering its gradient inside the adjoint, while torch keeps the FFTs. The backwards are
the same adjoints as ``physics.forward``'s, tested against autograd.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ptyflow.physics._kernels import (
    gather_multiply,
    ramp_adjoint_sum,
    ramp_multiply,
    slice_adjoint,
)
from ptyflow.physics.forward import (
    multislice,
    object_patches,
    ramp_factors,
    shift_ramps,
    shifted_probes,
)

__all__ = ["exit_waves", "probes_at"]


def _np(t: torch.Tensor) -> np.ndarray:
    """A numpy view (no copy) of a contiguous, resolved CPU tensor."""
    return t.detach().numpy()


def _dense(t: torch.Tensor) -> torch.Tensor:
    return t.resolve_conj().contiguous()


class _ProbesAt(torch.autograd.Function):
    """ifft2(ψ_m · ramp_y ⊗ ramp_x); its backward Σ_b conj(ramps)·fft2(g)."""

    @staticmethod
    def forward(
        ctx: Any, probe_k: torch.Tensor, ramp_y: torch.Tensor, ramp_x: torch.Tensor
    ) -> torch.Tensor:
        probe_k = _dense(probe_k)
        shaped = probe_k.new_empty((len(ramp_y), *probe_k.shape))
        ramp_multiply(_np(probe_k), _np(ramp_y), _np(ramp_x), _np(shaped))
        ctx.save_for_backward(ramp_y, ramp_x)
        return torch.fft.ifft2(shaped, norm="ortho")

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        ramp_y, ramp_x = ctx.saved_tensors
        grad_k = torch.fft.fft2(_dense(grad), norm="ortho")  # adjoint of the unitary ifft2
        out = grad_k.new_empty(grad_k.shape[1:])
        ramp_adjoint_sum(_np(grad_k), _np(ramp_y), _np(ramp_x), _np(out))
        return out, None, None


def probes_at(probe_k: torch.Tensor, shift_px: torch.Tensor) -> torch.Tensor:
    """Real-space probes (B, M, N, N): the modes ψ_m(k) (M, N, N) moved by ``shift_px``
    (B, 2) [pixels] (``shifted_probes(probe_k, shift_ramps(shift_px, …))``). Differentiable
    in the probe; in the shifts too, through the torch path (position refinement)."""
    shape = (probe_k.shape[-2], probe_k.shape[-1])
    if probe_k.device.type != "cpu" or (torch.is_grad_enabled() and shift_px.requires_grad):
        return shifted_probes(probe_k, shift_ramps(shift_px, shape))
    ramp_y, ramp_x = ramp_factors(shift_px.detach(), shape)
    return _ProbesAt.apply(probe_k, ramp_y, ramp_x)


def _propagated(wave_k: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """ifft2(P · wave_k) in place on ``wave_k``; a per-position P (B, N, N) spans the modes."""
    return torch.fft.ifft2(
        wave_k.mul_(factor if factor.dim() == 2 else factor[:, None]), norm="ortho"
    )


class _ExitWaves(torch.autograd.Function):
    """Patches gathered inside the transmission product; the backward scatters each slice's
    gradient inside the adjoint product, carrying the wave's gradient up the slices."""

    @staticmethod
    def forward(
        ctx: Any,
        waves: torch.Tensor,
        obj: torch.Tensor,
        starts: torch.Tensor,
        propagators: torch.Tensor | None,
    ) -> torch.Tensor:
        obj_np, starts_np = _np(_dense(obj)), _np(starts)
        wave, incident = _dense(waves), []
        for s in range(len(obj_np)):
            incident.append(wave)
            out = torch.empty_like(wave)
            gather_multiply(_np(wave), obj_np[s], starts_np, _np(out))
            wave_k = torch.fft.fft2(out, norm="ortho")
            if s < len(obj_np) - 1:
                assert propagators is not None
                wave = _propagated(wave_k, propagators[s])
        ctx.save_for_backward(obj, starts, propagators, *incident)
        return wave_k

    @staticmethod
    def backward(ctx: Any, grad_k: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        obj, starts, propagators, *incident = ctx.saved_tensors
        need_waves = ctx.needs_input_grad[0]
        obj_np, starts_np = _np(_dense(obj)), _np(starts)
        grad = torch.fft.ifft2(_dense(grad_k), norm="ortho")  # adjoint of the unitary fft2
        grad_obj = np.zeros_like(obj_np)
        for s in reversed(range(len(incident))):
            carry = s > 0 or need_waves
            slice_adjoint(_np(grad), _np(incident[s]), obj_np[s], starts_np, grad_obj[s], carry)
            if s > 0:
                back = torch.fft.fft2(grad, norm="ortho")
                grad = _propagated(back, propagators[s - 1].conj())  # adjoint of ifft2·P·fft2
        return (grad if need_waves else None), torch.from_numpy(grad_obj), None, None


def exit_waves(
    waves: torch.Tensor, obj: torch.Tensor, start_px: torch.Tensor, propagators: torch.Tensor | None
) -> torch.Tensor:
    """Exit waves in Fourier space (B, M, N, N), FFT order, ``norm="ortho"``: the probes
    ``waves`` (B, M, N, N) through the object slices ``obj`` (S, H, W) at the patches whose
    top-left pixels are ``start_px`` (B, 2), with the Fresnel ``propagators`` between slices
    (``multislice(waves, object_patches(obj, start_px, N), propagators)``). Differentiable
    in the waves and the object."""
    n = waves.shape[-1]
    if obj.device.type != "cpu":
        return multislice(waves, object_patches(obj, start_px, n), propagators)
    if propagators is not None and propagators.requires_grad:
        raise ValueError("exit_waves does not differentiate the propagators")
    starts = start_px.to(torch.int64).contiguous()
    lo, hi = starts.min(dim=0).values, starts.max(dim=0).values
    if len(starts) and (
        lo.min() < 0 or hi[0] > obj.shape[1] - n or hi[1] > obj.shape[2] - n
    ):  # the kernels index without bounds checks
        raise ValueError(
            f"patches of {n}×{n} at top-left pixels {lo.tolist()} … {hi.tolist()} leave the "
            f"object of {tuple(obj.shape[1:])} pixels"
        )
    return _ExitWaves.apply(waves, obj, starts, propagators)
