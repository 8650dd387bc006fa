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
    ky = torch.fft.fftfreq(shape[0], device=shift_px.device, dtype=shift_px.dtype)
    kx = torch.fft.fftfreq(shape[1], device=shift_px.device, dtype=shift_px.dtype)
    phase_y = (-2.0 * torch.pi) * shift_px[:, 0, None] * ky[None, :]
    phase_x = (-2.0 * torch.pi) * shift_px[:, 1, None] * kx[None, :]
    ramp_y = torch.complex(torch.cos(phase_y), torch.sin(phase_y)).to(torch.complex64)
    ramp_x = torch.complex(torch.cos(phase_x), torch.sin(phase_x)).to(torch.complex64)
    return ramp_y[:, :, None] * ramp_x[:, None, :]


def shifted_probes(probe_k: torch.Tensor, ramps: torch.Tensor) -> torch.Tensor:
    """Real-space probes (B, M, N, N) from modes ψ_m(k) (M, N, N) and ramps (B, N, N)."""
    return torch.fft.ifft2(probe_k[None] * ramps[:, None], norm="ortho")


def object_patches(obj: torch.Tensor, start_px: torch.Tensor, size: int) -> torch.Tensor:
    """The (S, B, n, n) patches of ``obj`` (S, H, W) whose top-left pixels are ``start_px``
    (B, 2). One ``index_select`` on the flattened object, whose backward is an index_add
    (fast and deterministic on CPU)."""
    n_slices, _, width = obj.shape
    offsets = torch.arange(size, device=obj.device)
    rows = start_px[:, 0, None, None] + offsets[None, :, None]
    cols = start_px[:, 1, None, None] + offsets[None, None, :]
    flat = (rows * width + cols).reshape(-1)
    picked = obj.reshape(n_slices, -1).index_select(1, flat)
    return picked.reshape(n_slices, len(start_px), size, size)


def multislice(
    waves: torch.Tensor, patches: torch.Tensor, propagators: torch.Tensor | None
) -> torch.Tensor:
    """Exit waves in Fourier space (B, M, N, N), FFT order, ``norm="ortho"``.

    ``waves`` (B, M, N, N) real-space incident probes, ``patches`` (S, B, N, N) slice
    transmissions, ``propagators`` (S−1, N, N) or (S−1, B, N, N) the Fresnel factor after
    each slice but the last (None for one slice).
    """
    slices = patches.unbind(0)  # one backward for all slices, not a zero-filled one per slice
    n_slices = len(slices)
    wave = waves
    for s in range(n_slices):
        t = slices[s][:, None]
        wave = wave.mul_(t) if _inplace_ok(wave, t) else wave * t
        wave_k = torch.fft.fft2(wave, norm="ortho")
        if s == n_slices - 1:
            return wave_k
        assert propagators is not None
        p = propagators[s] if propagators[s].dim() == 2 else propagators[s][:, None]
        wave_k = wave_k.mul_(p) if _inplace_ok(wave_k, p) else wave_k * p
        wave = torch.fft.ifft2(wave_k, norm="ortho")
    raise ValueError("multislice needs at least one slice")


def far_field_intensity(wave_k: torch.Tensor, bandlimit: torch.Tensor | None) -> torch.Tensor:
    """|ψ(k)|² summed over the modes axis (B, M, N, N) → (B, N, N), optionally band-limited."""
    if bandlimit is not None:
        wave_k = wave_k.mul_(bandlimit) if _inplace_ok(wave_k) else wave_k * bandlimit
    return (wave_k.real.square() + wave_k.imag.square()).sum(dim=1)


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
