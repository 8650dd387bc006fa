"""Regularisers (a loss term) and object constraints (applied after each iteration)."""

from __future__ import annotations

import torch

from ptyflow.config.reconstruct import RegularizeConfig
from ptyflow.reconstruct._model import PtychoModel

__all__ = ["filter_object", "total_variation"]


#: The log-amplitude's TV weight relative to the phase's: the amplitude of a thin specimen
#: carries little signal, and left free it is where the fit puts the noise.
AMPLITUDE_TV_FACTOR = 3.0


def _tv(t: torch.Tensor) -> torch.Tensor:
    dy = t[:, 1:, :-1] - t[:, :-1, :-1]
    dx = t[:, :-1, 1:] - t[:, :-1, :-1]
    return torch.sqrt(dy**2 + dx**2 + 1e-8).mean()


def total_variation(model: PtychoModel) -> torch.Tensor:
    """Mean isotropic total variation of each slice's phase (S, H, W), plus that of the
    log-amplitude where it is refined: left free, the amplitude soaks up the noise."""
    tv = _tv(model.phase)
    if model.log_amplitude.requires_grad:
        tv = tv + AMPLITUDE_TV_FACTOR * _tv(model.log_amplitude)
    return tv


@torch.no_grad()
def filter_object(
    phase: torch.Tensor,
    log_amplitude: torch.Tensor,
    cfg: RegularizeConfig,
    pixel_size_A: tuple[float, float],
) -> None:
    """In place: Gaussian low-pass in (y, x) and the kz filter across slices."""
    if cfg.lowpass_inv_A is not None:
        ky = torch.fft.fftfreq(phase.shape[1], pixel_size_A[0], device=phase.device)[:, None]
        kx = torch.fft.fftfreq(phase.shape[2], pixel_size_A[1], device=phase.device)[None, :]
        gauss = torch.exp(-(ky**2 + kx**2) / (2 * cfg.lowpass_inv_A**2))
        for t in (phase, log_amplitude):
            t.copy_(torch.fft.ifft2(torch.fft.fft2(t) * gauss).real)
    if cfg.kz_filter_weight > 0 and phase.shape[0] > 1:
        # The simplest low-pass along z: pull every slice towards the mean of the slices,
        # which damps the kz ≠ 0 components by (1 − weight) and keeps the projection.
        w = cfg.kz_filter_weight
        for t in (phase, log_amplitude):
            t.mul_(1 - w).add_(w * t.mean(dim=0, keepdim=True))
