"""The amplitude loss fused with the far-field intensity and the data error, for pixelated
data on the CPU: one numba pass over the exit waves Ψ (B, M, N, N) gives the loss
mean((√(Σ_m|Ψ_m|² + ε) − √data)²), the R-factor numerator Σ|√I − √data| and the loss's
gradient in Ψ, where torch would spend a dozen passes over the batch (|Ψ|², √, difference,
square, mean, their backwards, the data error's own √ and differences). The same values
as ``far_field_intensity`` followed by ``_measure``'s amplitude loss and ``data_error``.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
import torch

__all__ = ["amplitude_loss"]

_EPS = np.float32(1e-6)  # as _measure's: keeps the gradient finite where the model is dark


@numba.njit(nogil=True, cache=True, fastmath=True, error_model="numpy")
def _amplitude_kernel(wave_k: Any, root: Any, scale: Any, grad: Any, want_grad: bool) -> Any:
    """(Σ(s − r)², Σ|√I − r|) with I = Σ_m|Ψ_m|², s = √(I + ε); with ``want_grad``,
    grad = scale·(s − r)/s·Ψ. Rows sum in float32, the batch in float64."""
    n_pos, n_modes, n, _ = wave_k.shape
    row = np.empty(n, np.float32)
    loss, error = np.float64(0), np.float64(0)
    for b in range(n_pos):
        for y in range(n):
            row[:] = 0
            for m in range(n_modes):
                w = wave_k[b, m, y]
                for x in range(n):
                    row[x] += w[x].real * w[x].real + w[x].imag * w[x].imag
            r = root[b, y]
            row_loss, row_error = np.float32(0), np.float32(0)
            for x in range(n):
                s = np.sqrt(row[x] + _EPS)
                d = s - r[x]
                row_loss += d * d
                row_error += abs(np.sqrt(row[x]) - r[x])
                row[x] = scale * d / s
            loss += row_loss
            error += row_error
            if want_grad:
                for m in range(n_modes):
                    w, g = wave_k[b, m, y], grad[b, m, y]
                    for x in range(n):
                        g[x] = w[x] * row[x]
    return loss, error


class _AmplitudeLoss(torch.autograd.Function):
    """The loss and the data error; the gradient is formed in the forward pass (it needs
    what that pass computes) and scaled in the backward."""

    @staticmethod
    def forward(ctx: Any, wave_k: torch.Tensor, root: torch.Tensor) -> tuple[torch.Tensor, ...]:
        want = ctx.needs_input_grad[0]
        wave_k = wave_k.resolve_conj().contiguous()
        grad = torch.empty_like(wave_k) if want else wave_k.new_empty((1, 1, 1, 1))
        count = root.numel()
        loss, error = _amplitude_kernel(
            wave_k.detach().numpy(),
            root.contiguous().numpy(),
            np.float32(2.0 / count),
            grad.numpy(),
            want,
        )
        ctx.grad = grad
        error_sum = torch.tensor(error, dtype=torch.float64)
        ctx.mark_non_differentiable(error_sum)
        return torch.tensor(loss / count, dtype=torch.float32), error_sum

    @staticmethod
    def backward(ctx: Any, grad_loss: torch.Tensor, _: torch.Tensor) -> tuple[Any, None]:
        grad = ctx.grad
        return (grad if bool(grad_loss == 1) else grad * grad_loss), None


def amplitude_loss(wave_k: torch.Tensor, root: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(loss, Σ|√model − root|) of exit waves ``wave_k`` (B, M, N, N), FFT order, against
    ``root`` = √data (B, N, N) in the same order; CPU tensors."""
    loss, error = _AmplitudeLoss.apply(wave_k, root)
    return loss, error
