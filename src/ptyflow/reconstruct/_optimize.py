"""The optimisation: the optimizer and its learning-rate schedule, which parameters an
iteration leaves out, and one gradient step on one batch."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch

from ptyflow.config.reconstruct import ReconstructConfig
from ptyflow.reconstruct._amplitude import amplitude_loss
from ptyflow.reconstruct._measure import LOSSES, data_error
from ptyflow.reconstruct._model import PtychoModel
from ptyflow.reconstruct._regularize import total_variation

__all__ = ["GradientStep", "frozen_parameters", "left_out", "lr_schedule", "make_optimizer"]


def make_optimizer(model: PtychoModel, cfg: ReconstructConfig) -> torch.optim.Optimizer:
    o = cfg.optimizer
    probe_scale = float(model.probe_k.detach().abs().max())
    # Per slice × S^(−1/3): the slices' steps add up in the projected phase, so a full
    # step per slice overshoots (measured on the srtio3 data, docs/reconstruct.md: 6
    # slices reach r 0.99 in 5 iterations instead of 6; ÷S and ÷√S are slower again).
    lr_object = o.lr_object / cfg.model.n_slices ** (1 / 3)
    groups: list[dict[str, Any]] = [
        {"params": [model.phase, model.log_amplitude], "lr": lr_object, "name": "object"},
        {"params": [model.probe_k], "lr": o.lr_probe * probe_scale, "name": "probe"},
        {"params": [model.aberrations], "lr": o.lr_aberrations_A, "name": "aberrations"},
        {"params": [model.delta_A], "lr": o.lr_positions_A, "name": "positions"},
        {"params": [model.affine], "lr": o.lr_positions_A * 1e-2, "name": "affine"},
    ]
    if o.kind == "adam":
        return torch.optim.Adam(groups)
    if o.kind == "sgd":
        return torch.optim.SGD(groups, lr=lr_object, momentum=o.momentum)
    # One L-BFGS iteration per pass, its step from a strong-Wolfe line search that starts
    # at the quasi-Newton step (lr 1). With torch's default max_eval (5/4 × max_iter = 1)
    # the line search had no evaluation left, so every step was the bare trial step:
    # min(1, 1/|g|₁)·lr, then lr = 0.05 of the quasi-Newton step (low-dose gain 0.003
    # after 20 passes). No tolerances: the gradients of a mean loss are small in absolute
    # terms, and the iteration count decides when to stop.
    return torch.optim.LBFGS(
        [p for g in groups for p in g["params"] if p.requires_grad],
        lr=1.0,
        history_size=10,
        max_iter=1,
        max_eval=6,
        tolerance_grad=0.0,
        tolerance_change=0.0,
        line_search_fn="strong_wolfe",
    )


def lr_schedule(cfg: ReconstructConfig, steps: int) -> Callable[[int], float]:
    o, end = cfg.optimizer, cfg.optimizer.final_lr_fraction
    if o.kind == "lbfgs":  # the line search sets the step
        return lambda s: 1.0
    if o.schedule == "cosine":
        return lambda s: end + (1 - end) * 0.5 * (1 + math.cos(math.pi * min(s / steps, 1.0)))
    if o.schedule == "step":
        return lambda s: 1.0 if s < steps // 2 else (end if s >= 3 * steps // 4 else end**0.5)
    return lambda s: 1.0


def frozen_parameters(
    model: PtychoModel, cfg: ReconstructConfig, iteration: int
) -> list[torch.Tensor]:
    """Parameters left out of this iteration's graph (not yet refined, or never)."""
    frozen: list[torch.Tensor] = [] if cfg.probe.refine else [model.probe_k]
    if iteration < cfg.probe.refine_from_iteration:
        frozen += [model.probe_k, model.aberrations]
    if iteration < cfg.positions.refine_from_iteration:
        frozen += [model.delta_A, model.affine]
    return frozen


@contextmanager
def left_out(params: list[torch.Tensor]) -> Iterator[None]:
    """Frozen parameters leave the graph for an iteration, so autograd skips their backward
    (the probe shift's FFT when neither the probe nor the positions are refined)."""
    unique = list({id(p): p for p in params}.values())
    flags = [p.requires_grad for p in unique]
    for p in unique:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(unique, flags, strict=True):
            p.requires_grad_(flag)


@dataclass
class GradientStep:
    """One gradient step on one batch (a closure, as L-BFGS re-evaluates it)."""

    model: PtychoModel
    loss_name: str
    optimizer: torch.optim.Optimizer
    tv_weight: float
    indices: torch.Tensor
    frames: torch.Tensor | None  # None for the amplitude loss, which needs only the roots
    roots: torch.Tensor
    error: torch.Tensor | None = None  # Σ|√model − √data| of the last evaluation

    def closure(self) -> torch.Tensor:
        self.optimizer.zero_grad(set_to_none=True)
        if self.loss_name == "amplitude" and self.model.fused_amplitude:
            loss, self.error = amplitude_loss(self.model.exit_waves(self.indices), self.roots)
        else:
            predicted = self.model(self.indices)
            loss = LOSSES[self.loss_name](predicted, self.frames, self.roots)
            self.error = data_error(predicted.detach(), self.roots)
        if self.tv_weight:
            loss = loss + self.tv_weight * total_variation(self.model)
        loss.backward()
        return loss.detach()

    def run(self, lbfgs: bool) -> torch.Tensor:
        """The batch's loss, left on the device (no synchronisation per batch)."""
        if lbfgs:
            return self.optimizer.step(self.closure)  # type: ignore[arg-type, return-value]
        loss = self.closure()
        self.optimizer.step()
        return loss
