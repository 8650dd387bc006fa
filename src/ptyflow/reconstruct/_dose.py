"""The dose-dependent defaults: what the ``auto`` settings become once the store's counts
are known (docs/reconstruct.md, "Low dose", says why each one)."""

from __future__ import annotations

from ptyflow.config.reconstruct import ReconstructConfig
from ptyflow.reconstruct._measure import choose_loss

__all__ = ["dose_defaults"]


def dose_defaults(cfg: ReconstructConfig, signal_counts: float) -> ReconstructConfig:
    """``cfg`` with ``loss.kind``, ``regularize.tv_weight`` and ``probe.refine_aberrations``
    made concrete for ``signal_counts`` (counts per measured value where the signal is).

    Low dose is where ``auto`` picks the Poisson likelihood. There, unless set: TV is on at
    ``low_dose_tv_weight`` (the unregularised fit spends the measured scattering on noise),
    and a single-mode probe is refined through its aberration coefficients, not its pixels
    (thousands of free probe pixels soak up part of the specimen's scattering). The TV
    weight needs no further scaling with the dose: the Poisson loss's curvature grows with
    the counts, so a fixed weight regularises in proportion to 1/counts, as the noise does.
    """
    loss = choose_loss(cfg.loss.kind, signal_counts, cfg.loss.auto_poisson_below_counts)
    low_dose = cfg.loss.kind == "auto" and loss == "poisson"
    reg, probe = cfg.regularize, cfg.probe
    tv = reg.tv_weight
    if tv is None:
        tv = reg.low_dose_tv_weight if low_dose else 0.0
    aberrations = probe.refine_aberrations
    if aberrations is None:
        aberrations = low_dose and probe.refine and cfg.model.n_probe_modes == 1
    return cfg.model_copy(
        update={
            "loss": cfg.loss.model_copy(update={"kind": loss}),
            "regularize": reg.model_copy(update={"tv_weight": tv}),
            "probe": probe.model_copy(update={"refine_aberrations": aberrations}),
        }
    )
