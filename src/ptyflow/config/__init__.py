"""Config models, one per stage, validated from TOML files (see ``configs/``)."""

from ptyflow.config._base import (
    FiniteFloat,
    PositiveFloat,
    StrictModel,
    apply_overrides,
    format_validation_error,
    load_toml,
    validate_config,
)
from ptyflow.config._recorded import recorded_config

__all__ = [
    "FiniteFloat",
    "PositiveFloat",
    "StrictModel",
    "apply_overrides",
    "format_validation_error",
    "load_toml",
    "recorded_config",
    "validate_config",
]
