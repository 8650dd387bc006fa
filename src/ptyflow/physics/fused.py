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


# The FFTs run unnormalised (F and F^H: norm "backward" forward, "forward" inverse) and
# their 1/√n or 1/n goes into a product the kernels form anyway: "ortho" would cost a
# scaling pass over the batch per transform (~13% of an FFT whose data are not in cache).
_F, _FH = "backward", "forward"


def _ortho(t: torch.Tensor) -> np.float32:
    """The unitary FFT's scale 1/√(N·N) of an (…, N, N) batch."""
    return np.float32(1 / np.sqrt(t.shape[-1] * t.shape[-2]))


class _ProbesAt(torch.autograd.Function):
    """ifft2(ψ_m · ramp_y ⊗ ramp_x); its backward Σ_b conj(ramps)·fft2(g)."""

    @staticmethod
    def forward(
        ctx: Any, probe_k: torch.Tensor, ramp_y: torch.Tensor, ramp_x: torch.Tensor
    ) -> torch.Tensor:
        probe_k = _dense(probe_k)
        shaped = probe_k.new_empty((len(ramp_y), *probe_k.shape))
        ramp_multiply(_np(probe_k), _np(ramp_y), _np(ramp_x), _ortho(shaped), _np(shaped))
        ctx.save_for_backward(ramp_y, ramp_x)
        return torch.fft.ifft2(shaped, norm=_FH)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        ramp_y, ramp_x = ctx.saved_tensors
        grad_k = torch.fft.fft2(_dense(grad), norm=_F)  # the adjoint of F^H
        out = grad_k.new_empty(grad_k.shape[1:])
        ramp_adjoint_sum(_np(grad_k), _np(ramp_y), _np(ramp_x), _ortho(grad_k), _np(out))
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


def _propagated(wave: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """F^H(factor · F wave); a per-position factor (B, N, N) spans the modes."""
    factor = factor if factor.dim() == 2 else factor[:, None]
    return torch.fft.ifft2(torch.fft.fft2(wave, norm=_F).mul_(factor), norm=_FH)


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
        # ifft2(P·fft2(u)) with unitary FFTs is F^H(P/n · F u); the last slice's F takes
        # its 1/√n inside the transmission product.
        scaled = None if propagators is None else propagators * float(_ortho(wave)) ** 2
        last = len(obj_np) - 1
        for s in range(last + 1):
            incident.append(wave)
            out = torch.empty_like(wave)
            scale = _ortho(wave) if s == last else np.float32(1)
            gather_multiply(_np(wave), obj_np[s], starts_np, scale, _np(out))
            if s < last:
                assert scaled is not None
                wave = _propagated(out, scaled[s])
        ctx.save_for_backward(obj, starts, scaled, *incident)
        return torch.fft.fft2(out, norm=_F)

    @staticmethod
    def backward(ctx: Any, grad_k: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        obj, starts, scaled, *incident = ctx.saved_tensors
        need_waves = ctx.needs_input_grad[0]
        obj_np, starts_np = _np(_dense(obj)), _np(starts)
        # The adjoint of F; the last slice's 1/√n is taken in its adjoint product.
        grad = torch.fft.ifft2(_dense(grad_k), norm=_FH)
        grad_obj = np.zeros_like(obj_np)
        last = len(incident) - 1
        for s in reversed(range(last + 1)):
            carry = s > 0 or need_waves
            scale = _ortho(grad) if s == last else np.float32(1)
            g, w = _np(grad), _np(incident[s])
            slice_adjoint(g, w, obj_np[s], starts_np, scale, grad_obj[s], carry)
            if s > 0:
                grad = _propagated(grad, scaled[s - 1].conj())  # the adjoint of F^H·P/n·F
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
    corners = _np(starts)  # checked in numpy: a few µs, where torch takes ~10 per small op
    if len(corners) and (
        corners.min() < 0 or (corners.max(axis=0) > np.subtract(obj.shape[1:], n)).any()
    ):  # the kernels index without bounds checks
        raise ValueError(
            f"patches of {n}×{n} at top-left pixels {corners.min(axis=0).tolist()} … "
            f"{corners.max(axis=0).tolist()} leave the object of {tuple(obj.shape[1:])} pixels"
        )
    return _ExitWaves.apply(waves, obj, starts, propagators)
