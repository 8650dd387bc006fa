"""The ``ptyflow provenance`` config: whose signatures to trust, where to look for inputs.

Every option is shown and explained in ``configs/provenance.toml``. A facility keeps one
such file (its trusted public keys, its archive roots) and points ``--config`` or
``PTYFLOW_PROVENANCE_CONFIG`` at it.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, PositiveInt, field_validator

from ptyflow.config._base import StrictModel

__all__ = [
    "CONFIG_ENV",
    "ProvenanceConfig",
    "SearchConfig",
    "TrustConfig",
    "VerifyConfig",
    "load_provenance_config",
]

#: Environment variable naming the config file used when no ``--config`` is given.
CONFIG_ENV = "PTYFLOW_PROVENANCE_CONFIG"
_KEY_PREFIX = "ed25519:"


class TrustConfig(StrictModel):
    """Signatures: which public keys vouch for records, and whether one is required."""

    keys: dict[str, str] = Field(
        default_factory=dict,
        description="name → Ed25519 public key 'ed25519:<base64>' (what `keygen` prints)",
    )
    require_signature: bool = Field(
        False, description="fail verify unless the artifact carries a valid trusted signature"
    )

    @field_validator("keys")
    @classmethod
    def _public_keys(cls, keys: dict[str, str]) -> dict[str, str]:
        for name, key in keys.items():
            if not key.startswith(_KEY_PREFIX) or len(key) != len(_KEY_PREFIX) + 44:
                raise ValueError(
                    f"key {name!r}: expected '{_KEY_PREFIX}' and 44 base64 characters "
                    f"(the line `ptyflow provenance keygen` prints), got {key!r}"
                )
        return keys


class SearchConfig(StrictModel):
    """Where inputs are looked for when they are no longer at their recorded path."""

    paths: tuple[Path, ...] = Field(
        (), description="directories searched (recursively) after the artifact's own directory"
    )


class VerifyConfig(StrictModel):
    """How hard verify works."""

    threads: PositiveInt | None = Field(
        None, description="hashing threads; default: one per core available"
    )


class ProvenanceConfig(StrictModel):
    """Everything ``ptyflow provenance`` reads from its config file."""

    trust: TrustConfig = Field(default_factory=TrustConfig)
    search: SearchConfig = Field(default_factory=SearchConfig)
    verify: VerifyConfig = Field(default_factory=VerifyConfig)


def load_provenance_config(path: str | Path | None = None) -> ProvenanceConfig:
    """The config at ``path``, else at ``$PTYFLOW_PROVENANCE_CONFIG``, else the defaults
    (no trusted keys, no search paths)."""
    import os

    from ptyflow.config._base import load_toml

    path = path or os.environ.get(CONFIG_ENV) or None
    return ProvenanceConfig() if path is None else load_toml(path, ProvenanceConfig)
