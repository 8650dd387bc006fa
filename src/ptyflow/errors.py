"""The exceptions ptyflow raises on purpose.

Hierarchy::

    PtyflowError              every error ptyflow raises deliberately; the CLI prints its message
    ├── ConfigError           a config file or value is wrong (names file, key, expectation)
    ├── DatasetError          a dataset store is missing, corrupt or violates the contract
    │   └── SchemaVersionError   the store was written under another schema version
    ├── PhysicsError          physically meaningless parameters (negative dose, ...)
    ├── ProvenanceError       a provenance record is missing, corrupt or does not verify
    ├── ResultError           a result store is missing, corrupt or not a ptyflow result
    ├── ScoreError            a result cannot be scored against a ground truth (no overlap, ...)
    └── TransferError         a store cannot be sent or does not verify on the destination

Each message names the thing at fault (file, key, field, frame) and what was expected.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DatasetError",
    "PhysicsError",
    "ProvenanceError",
    "PtyflowError",
    "ResultError",
    "SchemaVersionError",
    "ScoreError",
    "TransferError",
]


class PtyflowError(Exception):
    """Root of every error ptyflow raises on purpose."""


class ConfigError(PtyflowError, ValueError):
    """A config file or value is invalid."""


class DatasetError(PtyflowError):
    """A dataset store is missing, corrupt, or violates the store contract."""


class SchemaVersionError(DatasetError):
    """A dataset store was written under a schema version this ptyflow cannot read."""


class PhysicsError(PtyflowError, ValueError):
    """Physically meaningless parameters."""


class ProvenanceError(PtyflowError):
    """A provenance record is missing, corrupt, or does not match its artifact."""


class ResultError(PtyflowError):
    """A reconstruction result store is missing, corrupt, or not a ptyflow result."""


class ScoreError(PtyflowError):
    """A result cannot be compared with a ground truth (its field misses the truth, ...)."""


class TransferError(PtyflowError):
    """A store cannot be sent, or what arrived does not match what was written."""
