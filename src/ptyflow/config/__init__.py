"""Config models, one per stage, validated from TOML files (see ``configs/``)."""

from ptyflow.config._base import (
    StrictModel,
    apply_overrides,
    format_validation_error,
    load_toml,
    validate_config,
)

__all__ = [
    "StrictModel",
    "apply_overrides",
    "format_validation_error",
    "load_toml",
    "validate_config",
]
