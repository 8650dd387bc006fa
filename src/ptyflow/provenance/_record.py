"""Provenance records: what made an artifact, from what, when, and its content hash.

A record travels inside its artifact: ``ARTIFACT/provenance.json`` for a directory (a
dataset store, a result store), ``ARTIFACT.prov.json`` beside a single file.
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ptyflow._files import write_text_atomic
from ptyflow.errors import ProvenanceError
from ptyflow.provenance._environment import Environment, capture_environment
from ptyflow.provenance._hashing import HASH_PREFIX, build_manifest, sha256_file, tree_hash

__all__ = [
    "HASH_EXCLUDES",
    "MANIFEST_NAME",
    "RECORD_NAME",
    "RECORD_SCHEMA",
    "ArtifactRef",
    "ProvenanceRecord",
    "artifact_ref",
    "content_hash",
    "finish_record",
    "read_record",
    "record_path",
    "start_record",
    "write_record",
]

MANIFEST_NAME = "manifest.json"
RECORD_NAME = "provenance.json"
#: Files a directory's content hash leaves out: they describe the content, they are not it.
HASH_EXCLUDES = frozenset({MANIFEST_NAME, RECORD_NAME})
RECORD_SCHEMA = "ptyflow.provenance/1"


class ArtifactRef(BaseModel):
    """An input or output: where it was, its content hash, and the id of its own record."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    content_hash: str
    record_id: str | None = None


class ProvenanceRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    record_schema: str = RECORD_SCHEMA
    record_id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    activity: str
    command: list[str]
    config: dict[str, Any] | None = None
    environment: Environment
    started_utc: datetime
    ended_utc: datetime | None = None
    inputs: list[ArtifactRef] = Field(default_factory=list)
    outputs: list[ArtifactRef] = Field(default_factory=list)


def record_path(artifact: str | Path) -> Path:
    """Where the record of ``artifact`` lives (inside a directory, beside a file)."""
    artifact = Path(artifact)
    return artifact / RECORD_NAME if artifact.is_dir() else Path(f"{artifact}.prov.json")


def content_hash(artifact: str | Path) -> str:
    """SHA-256 of a file, or the tree hash of a directory's files (record and manifest excluded)."""
    artifact = Path(artifact)
    if artifact.is_dir():
        return tree_hash(build_manifest(artifact, exclude=HASH_EXCLUDES))
    if artifact.is_file():
        return HASH_PREFIX + sha256_file(artifact)
    raise ProvenanceError(f"{artifact}: no such file or directory to hash")


def _config_dict(config: BaseModel | Mapping[str, Any] | None) -> dict[str, Any] | None:
    if config is None:
        return None
    if isinstance(config, BaseModel):
        return config.model_dump(mode="json")
    return json.loads(json.dumps(dict(config), default=str))


def _invocation() -> list[str]:
    """This process's command line, with ``python -m ptyflow`` written as ``ptyflow``."""
    argv = list(sys.argv)
    if argv and Path(argv[0]).name in {"ptyflow", "__main__.py"}:
        argv[0] = "ptyflow"
    return argv


def start_record(
    activity: str,
    config: BaseModel | Mapping[str, Any] | None = None,
    inputs: Sequence[ArtifactRef] = (),
    command: Sequence[str] | None = None,
) -> ProvenanceRecord:
    """Open a record for an activity about to run (``simulate``, ``acquire``, ...)."""
    return ProvenanceRecord(
        activity=activity,
        command=list(_invocation() if command is None else command),
        config=_config_dict(config),
        environment=capture_environment(),
        started_utc=datetime.now(UTC),
        inputs=list(inputs),
    )


def finish_record(record: ProvenanceRecord, outputs: Sequence[ArtifactRef]) -> ProvenanceRecord:
    """The record closed now, with its outputs' content hashes."""
    return record.model_copy(update={"ended_utc": datetime.now(UTC), "outputs": list(outputs)})


def read_record(path: str | Path) -> ProvenanceRecord:
    """Read a record from its file (``provenance.json``, ``*.prov.json``) or its artifact."""
    path = Path(path)
    if path.is_dir() or not (path.name == RECORD_NAME or path.name.endswith(".prov.json")):
        path = record_path(path)
    try:
        return ProvenanceRecord.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        raise ProvenanceError(f"{path}: no provenance record") from None
    except ValidationError as err:
        raise ProvenanceError(f"{path}: invalid provenance record: {err}") from None


def artifact_ref(path: str | Path) -> ArtifactRef:
    """Reference an existing artifact as an input: its content hash and its record's id."""
    try:
        record_id: str | None = read_record(record_path(path)).record_id
    except ProvenanceError:
        record_id = None
    return ArtifactRef(
        path=str(Path(path).resolve()), content_hash=content_hash(path), record_id=record_id
    )


def write_record(record: ProvenanceRecord, path: str | Path) -> Path:
    """Write ``record`` as JSON atomically (temp file, then rename) and return its path."""
    path = Path(path)
    write_text_atomic(path, record.model_dump_json(indent=2))
    return path
