"""Config models, one per stage, validated from TOML files (see ``configs/``)."""

from ptyflow.config._base import StrictModel, format_validation_error, load_toml, validate_config

__all__ = ["StrictModel", "format_validation_error", "load_toml", "validate_config"]
