"""configs/acquire.toml loads and documents every option of the acquire config."""

from __future__ import annotations

from pathlib import Path

import pytest

from ptyflow.config import load_toml
from ptyflow.config.acquire import AcquireConfig
from ptyflow.errors import ConfigError

ACQUIRE_TOML = Path(__file__).resolve().parents[2] / "configs" / "acquire.toml"


def test_template_loads_and_documents_every_key() -> None:
    text = ACQUIRE_TOML.read_text()
    cfg = load_toml(ACQUIRE_TOML, AcquireConfig)
    models = [
        cfg,
        cfg.receive,
        cfg.beam,
        cfg.scan,
        cfg.detector,
        cfg.compress,
        cfg.output,
        cfg.status,
    ]
    for model in models:
        for key in type(model).model_fields:
            if key == "edges_mrad":  # the alternative to edges_bf, shown in its comment
                assert "edges_mrad = " in text
                continue
            assert f"{key} =" in text or f"[{key}" in text or f".{key}]" in text, key


def test_overrides_and_units_in_errors() -> None:
    cfg = load_toml(ACQUIRE_TOML, AcquireConfig, ["receive.protocol=v2", "scan.n_time=4"])
    assert (cfg.receive.protocol, cfg.scan.n_time) == ("v2", 4)
    with pytest.raises(ConfigError, match=r"series_timeout_s.*greater than 0"):
        load_toml(ACQUIRE_TOML, AcquireConfig, ["receive.series_timeout_s=0"])
    with pytest.raises(ConfigError, match="did you mean 'series_timeout_s'"):
        load_toml(ACQUIRE_TOML, AcquireConfig, ["receive.series_timeout_ms=5"])
