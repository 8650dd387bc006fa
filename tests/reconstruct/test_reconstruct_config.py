"""configs/reconstruct.toml documents every option and loads as the defaults."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from ptyflow.config import load_toml
from ptyflow.config.reconstruct import ReconstructConfig
from ptyflow.errors import ConfigError

TEMPLATE = Path(__file__).resolve().parents[2] / "configs" / "reconstruct.toml"


def _fields(model: type[BaseModel], prefix: str = "") -> list[str]:
    out = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            out += _fields(annotation, f"{prefix}{name}.")
        else:
            out.append(f"{prefix}{name}")
    return out


def test_template_documents_every_option_and_equals_the_defaults() -> None:
    text = TEMPLATE.read_text()
    for dotted in _fields(ReconstructConfig):
        section, key = dotted.rsplit(".", 1)
        assert f"[{section}]" in text, f"section [{section}] missing from the template"
        assert f"{key} =" in text or f"# {key} =" in text, f"{dotted} missing from the template"
    assert load_toml(TEMPLATE, ReconstructConfig) == ReconstructConfig()


def test_multislice_needs_a_thickness(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="slice_thickness_A"):
        load_toml(TEMPLATE, ReconstructConfig, ["model.n_slices=3"])
    with pytest.raises(ConfigError, match="lr_objcet"):
        load_toml(TEMPLATE, ReconstructConfig, ["optimizer.lr_objcet=3"])
