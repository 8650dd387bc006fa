"""The differentiable forward model, in torch, shared by the simulator and the reconstructor.

A diffraction pattern is made in five steps, each a function here so the two callers cannot
drift apart: shift the probe to its sub-pixel position with a Fourier phase ramp
(:func:`shift_ramps`, :func:`shifted_probes`), cut the object patches under it
(:func:`object_patches`), alternate transmission and Fresnel propagation through the slices
(:func:`multislice`), take |FFT|² summed over incoherent probe modes
(:func:`far_field_intensity`), and sum fine k pixels into detector pixels
(:class:`DetectorBinning`). Every step is differentiable; without autograd the products are
formed in place, so a batch reuses its buffers instead of allocating new ones.
Shapes: B positions, M probe modes, S slices, N×N window, FFT order in k.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

__all__ = [
    "DetectorBinning",
    "far_field_intensity",
    "multislice",
    "object_patches",
    "shift_ramps",
    "shifted_probes",
]


def _inplace_ok(*tensors: torch.Tensor) -> bool:
    """In-place products are safe when autograd records nothing about these tensors."""
    return not (torch.is_grad_enabled() and any(t.requires_grad for t in tensors))


def shift_ramps(shift_px: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """exp(−2πi k·s) (B, N, N) complex64: multiplying ψ(k) by it moves ψ(r) by s [pixels].

    ``shift_px`` (B, 2) is (y, x); differentiable in it (position refinement). Built as the
    outer product of a y and an x ramp: 2·B·N complex exponentials instead of B·N².
    """
    ramp_y, ramp_x = ramp_factors(shift_px, shape)
    return ramp_y[:, :, None] * ramp_x[:, None, :]


def ramp_factors(shift_px: torch.Tensor, shape: tuple[int, int]) -> tuple[torch.Tensor, ...]:
    """The y and x factors (B, N) complex64 of :func:`shift_ramps`' outer product."""
    ky = torch.fft.fftfreq(shape[0], device=shift_px.device, dtype=shift_px.dtype)
    kx = torch.fft.fftfreq(shape[1], device=shift_px.device, dtype=shift_px.dtype)
    phase_y = (-2.0 * torch.pi) * shift_px[:, 0, None] * ky[None, :]
    phase_x = (-2.0 * torch.pi) * shift_px[:, 1, None] * kx[None, :]
    ramp_y = torch.complex(torch.cos(phase_y), torch.sin(phase_y)).to(torch.complex64)
    ramp_x = torch.complex(torch.cos(phase_x), torch.sin(phase_x)).to(torch.complex64)
    return ramp_y, ramp_x


class _ShiftedProbes(torch.autograd.Function):
    """:func:`shifted_probes` whose backward takes the conjugate gradient h = ḡ that
    :class:`_Multislice` hands down (a lazy view) without forming ḡ: with v = F⁻¹h, the
    gradients Σ_b R̄_b·F g_b and Σ_m P̄_m·F g_m are the conjugates of Σ_b R_b·v_b and
    Σ_m P_m·v_m, conjugated once they are summed (the probe's is M×N×N)."""

    @staticmethod
    def forward(ctx: Any, probe_k: torch.Tensor, ramps: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(probe_k, ramps)
        return torch.fft.ifft2(probe_k[None] * ramps[:, None], norm="ortho")

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        probe_k, ramps = ctx.saved_tensors
        need_probe, need_ramps = ctx.needs_input_grad
        h = grad.conj() if grad.is_conj() else grad.conj_physical()
        v = torch.fft.ifft2(h, norm="ortho")
        grad_ramps = (v * probe_k[None]).sum(dim=1).conj() if need_ramps else None
        grad_probe = v.mul_(ramps[:, None]).sum(dim=0).conj_physical() if need_probe else None
        return grad_probe, grad_ramps


def shifted_probes(probe_k: torch.Tensor, ramps: torch.Tensor) -> torch.Tensor:
    """Real-space probes (B, M, N, N) from modes ψ_m(k) (M, N, N) and ramps (B, N, N)."""
    if torch.is_grad_enabled() and (probe_k.requires_grad or ramps.requires_grad):
        return _ShiftedProbes.apply(probe_k, ramps)
    return torch.fft.ifft2(probe_k[None] * ramps[:, None], norm="ortho")


class _Patches(torch.autograd.Function):
    """Gathers the patches slice by slice through one (B·n·n) flat index, into one output
    buffer; the backward index-adds each slice's gradient (deterministic on CPU). A single
    gather through an (S·B·n·n) index would first build, and then read, S times the index."""

    @staticmethod
    def forward(ctx: Any, obj: torch.Tensor, flat: torch.Tensor, size: int) -> torch.Tensor:
        source = obj.reshape(obj.shape[0], -1)
        picked = obj.new_empty((obj.shape[0], flat.numel()))
        for s in range(obj.shape[0]):
            torch.index_select(source[s], 0, flat, out=picked[s])
        ctx.save_for_backward(flat)
        ctx.obj_shape = obj.shape
        return picked.reshape(obj.shape[0], -1, size, size)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        (flat,) = ctx.saved_tensors
        shape = ctx.obj_shape
        # A lazily conjugated gradient (from _Multislice): sum the plain values and
        # conjugate the object-sized sum, not the batch.
        conj = grad.is_conj()
        grad = (grad.conj() if conj else grad).reshape(shape[0], -1)
        grad_obj = grad.new_zeros((shape[0], shape[1] * shape[2]))
        for s in range(shape[0]):
            grad_obj[s].index_add_(0, flat, grad[s])
        grad_obj = grad_obj.reshape(shape)
        return (grad_obj.conj_physical_() if conj else grad_obj), None, None


def object_patches(obj: torch.Tensor, start_px: torch.Tensor, size: int) -> torch.Tensor:
    """The (S, B, n, n) patches of ``obj`` (S, H, W) whose top-left pixels are ``start_px``
    (B, 2), gathered through flat indices into the (H·W) pixels of each slice."""
    offsets = torch.arange(size, device=obj.device)
    rows = start_px[:, 0, None, None] + offsets[None, :, None]
    cols = start_px[:, 1, None, None] + offsets[None, None, :]
    flat = (rows * obj.shape[2] + cols).reshape(-1)
    if torch.is_grad_enabled() and obj.requires_grad:
        return _Patches.apply(obj, flat, size)
    picked = obj.reshape(obj.shape[0], -1).index_select(1, flat)
    return picked.reshape(obj.shape[0], len(start_px), size, size)


def _propagator(propagators: torch.Tensor, s: int) -> torch.Tensor:
    """The Fresnel factor after slice s, shaped to broadcast over (B, M, N, N)."""
    p = propagators[s]
    return p if p.dim() == 2 else p[:, None]


def _through_slices(
    wave: torch.Tensor,
    patches: torch.Tensor,
    propagators: torch.Tensor | None,
    incident: list[torch.Tensor] | None,
) -> torch.Tensor:
    """The multislice loop. With ``incident`` (autograd) the wave entering each slice is kept
    there and the caller's ``wave`` is left alone; without, ``wave`` is overwritten (its
    buffer is reused). Buffers made here are multiplied in place either way."""
    n_slices = patches.shape[0]
    for s in range(n_slices):
        t = patches[s][:, None]
        if incident is None:
            wave = wave.mul_(t)
        else:
            incident.append(wave)
            wave = wave * t
        wave_k = torch.fft.fft2(wave, norm="ortho")
        if s == n_slices - 1:
            return wave_k
        assert propagators is not None
        wave = torch.fft.ifft2(wave_k.mul_(_propagator(propagators, s)), norm="ortho")
    raise ValueError("multislice needs at least one slice")


def _mul_sum_modes(grad: torch.Tensor, wave: torch.Tensor, out: torch.Tensor) -> None:
    """``out`` (B, N, N) = Σ_m grad·wave over the modes axis of (B, M, N, N)."""
    if grad.shape[1] == 1:
        torch.mul(grad[:, 0], wave[:, 0], out=out)
    else:
        torch.sum(grad * wave, dim=1, out=out)


class _Multislice(torch.autograd.Function):
    """:func:`multislice` with a hand-written backward: the adjoint of each step in reverse,
    in place on one buffer, written straight into the patches' gradient.

    The backward carries the *conjugate* h = ḡ of the gradient g: the adjoints g·t̄ and
    F⁻¹(P̄·F g) become h·t and F(P·F⁻¹ h), and a patch's gradient Σ g·w̄ is the conjugate
    of Σ h·w, so no batch-sized conjugate is ever formed (torch materialises each one as a
    copy). The gradients leave as lazy conjugate views; :class:`_Patches` conjugates the
    object-sized sum instead. Autograd's own graph of the loop costs about twice as much."""

    @staticmethod
    def forward(
        ctx: Any, waves: torch.Tensor, patches: torch.Tensor, propagators: torch.Tensor | None
    ) -> torch.Tensor:
        incident: list[torch.Tensor] = []
        wave_k = _through_slices(waves, patches, propagators, incident)
        ctx.save_for_backward(patches, propagators, *incident)
        return wave_k

    @staticmethod
    def backward(ctx: Any, grad_k: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        patches, propagators, *incident = ctx.saved_tensors
        need_waves, need_patches = ctx.needs_input_grad[:2]
        # conj(F⁻¹ g) = F ḡ: the adjoint of the unitary F, conjugated.
        h = torch.fft.fft2(grad_k.conj(), norm="ortho")
        grad_patches = torch.empty_like(patches) if need_patches else None
        for s in reversed(range(len(incident))):
            if grad_patches is not None:
                _mul_sum_modes(h, incident[s], grad_patches[s])
            if s == 0 and not need_waves:
                break
            h = h.mul_(patches[s][:, None])
            if s > 0:
                wave = torch.fft.ifft2(h, norm="ortho")
                h = torch.fft.fft2(wave.mul_(_propagator(propagators, s - 1)), norm="ortho")
        return (
            h.conj() if need_waves else None,
            grad_patches.conj() if grad_patches is not None else None,
            None,
        )


def multislice(
    waves: torch.Tensor, patches: torch.Tensor, propagators: torch.Tensor | None
) -> torch.Tensor:
    """Exit waves in Fourier space (B, M, N, N), FFT order, ``norm="ortho"``.

    ``waves`` (B, M, N, N) real-space incident probes, ``patches`` (S, B, N, N) slice
    transmissions, ``propagators`` (S−1, N, N) or (S−1, B, N, N) the Fresnel factor after
    each slice but the last (None for one slice; constants, never differentiated).
    Without autograd ``waves`` is overwritten.
    """
    if propagators is not None and propagators.requires_grad:
        raise ValueError("multislice does not differentiate the propagators")
    if torch.is_grad_enabled() and (waves.requires_grad or patches.requires_grad):
        return _Multislice.apply(waves, patches, propagators)
    return _through_slices(waves, patches, propagators, None)


def _intensity(wave_k: torch.Tensor) -> torch.Tensor:
    """Σ_m |ψ_m|² over the modes axis: squares of the contiguous real view, then re + im
    (faster than squaring the strided .real and .imag views, or complex abs)."""
    square = torch.view_as_real(wave_k).square()
    intensity = square[..., 0] + square[..., 1]
    return intensity[:, 0] if intensity.shape[1] == 1 else intensity.sum(dim=1)


class _Intensity(torch.autograd.Function):
    """Σ_m |ψ_m|² whose backward is the one product 2·g·ψ (autograd's real/imag/square
    graph zero-fills and copies a complex gradient per view)."""

    @staticmethod
    def forward(ctx: Any, wave_k: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(wave_k)
        return _intensity(wave_k)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        (wave_k,) = ctx.saved_tensors
        return wave_k * (2 * grad)[:, None]


def far_field_intensity(wave_k: torch.Tensor, bandlimit: torch.Tensor | None) -> torch.Tensor:
    """|ψ(k)|² summed over the modes axis (B, M, N, N) → (B, N, N), optionally band-limited."""
    if bandlimit is not None:
        wave_k = wave_k.mul_(bandlimit) if _inplace_ok(wave_k) else wave_k * bandlimit
    if torch.is_grad_enabled() and wave_k.requires_grad:
        return _Intensity.apply(wave_k)
    return _intensity(wave_k)


@dataclass(frozen=True)
class DetectorBinning:
    """Sums an N×N FFT-order intensity into a detector of ``shape`` b×b blocks per pixel.

    Detector pixel i collects fine pixels (i − n//2)·b + t − (b−1)//2, t = 0 … b−1, so k = 0
    is the centre of detector pixel n//2 for odd b, and for even b the corner the binning
    convention of the dataset store puts it at ((c + 0.5)/b − 0.5).
    """

    shape: tuple[int, int]
    factor: int
    window_px: int

    def indices(self) -> tuple[torch.Tensor, torch.Tensor]:
        b, n_fft = self.factor, self.window_px
        iy, ix = (
            torch.from_numpy((np.arange(n * b) - (n // 2) * b - (b - 1) // 2) % n_fft)
            for n in self.shape
        )
        return iy, ix

    def __call__(self, intensity: torch.Tensor) -> torch.Tensor:
        """(B, N, N) FFT-order intensities → (B, ny, nx) detector frames."""
        iy, ix = (i.to(intensity.device) for i in self.indices())
        (ny, nx), b = self.shape, self.factor
        fine = intensity.index_select(1, iy).index_select(2, ix)
        if b == 1:
            return fine
        return fine.reshape(-1, ny, b, nx, b).sum(dim=(2, 4))
