"""configs/reconstruct.toml documents every option and loads as the defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from ptyflow.config import load_toml
from ptyflow.config.reconstruct import ReconstructConfig
from ptyflow.errors import ConfigError
from ptyflow.testing import undocumented_keys

TEMPLATE = Path(__file__).resolve().parents[2] / "configs" / "reconstruct.toml"


def test_template_documents_every_option_and_equals_the_defaults() -> None:
    config = load_toml(TEMPLATE, ReconstructConfig)
    assert undocumented_keys(config, TEMPLATE.read_text()) == []
    assert config == ReconstructConfig()


def test_multislice_needs_a_thickness(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="slice_thickness_A"):
        load_toml(TEMPLATE, ReconstructConfig, ["model.n_slices=3"])
    with pytest.raises(ConfigError, match="lr_objcet"):
        load_toml(TEMPLATE, ReconstructConfig, ["optimizer.lr_objcet=3"])
