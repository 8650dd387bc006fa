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

__all__ = [
    "FiniteFloat",
    "PositiveFloat",
    "StrictModel",
    "apply_overrides",
    "format_validation_error",
    "load_toml",
    "validate_config",
]
