"""The dose-dependent defaults: what ``auto`` becomes at low and high counts, and that an
explicit setting always wins."""

from __future__ import annotations

from ptyflow.reconstruct._dose import dose_defaults

from .conftest import make_config


def _resolved(counts: float, *overrides: str) -> tuple[str, float | None, bool | None]:
    cfg = dose_defaults(make_config(*overrides), counts)
    return cfg.loss.kind, cfg.regularize.tv_weight, cfg.probe.refine_aberrations


def test_low_dose_defaults_and_explicit_settings() -> None:
    assert _resolved(5.0) == ("poisson", 0.3, True)
    assert _resolved(50.0) == ("amplitude", 0.0, False)
    assert _resolved(5.0, "regularize.low_dose_tv_weight=0.1") == ("poisson", 0.1, True)
    explicit = ("regularize.tv_weight=0.02", "probe.refine_aberrations=false")
    assert _resolved(5.0, *explicit) == ("poisson", 0.02, False)
    # An explicit loss is no "auto" low-dose choice: no TV, probe pixels.
    assert _resolved(5.0, "loss.kind='poisson'") == ("poisson", 0.0, False)
    # Aberrations describe one coherent mode; a fixed probe stays fixed.
    assert _resolved(5.0, "model.n_probe_modes=3") == ("poisson", 0.3, False)
    assert _resolved(5.0, "probe.refine=false") == ("poisson", 0.3, False)
