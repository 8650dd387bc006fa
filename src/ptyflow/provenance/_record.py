"""Provenance records: what made an artifact, from what, when, and its content hash.

A record travels inside its artifact: ``ARTIFACT/provenance.json`` for a directory (a
dataset store, a result store), ``ARTIFACT.prov.json`` beside a single file.

A written record is *sealed*: ``record_hash`` is the SHA-256 of its canonical content
(:func:`canonical_bytes`: every field but ``record_hash`` and ``signatures``), and each
input carries the ``record_hash`` of the record that made it. Editing any record in a chain
therefore breaks it at a place :func:`ptyflow.provenance.verify_chain` can name.
"""

from __future__ import annotations

import hashlib
import json
import sys
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

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
    "Signature",
    "artifact_ref",
    "canonical_bytes",
    "content_hash",
    "finish_record",
    "read_record",
    "read_record_json",
    "record_file",
    "record_hash_of",
    "record_path",
    "seal_record",
    "start_record",
    "write_record",
]

MANIFEST_NAME = "manifest.json"
RECORD_NAME = "provenance.json"
#: Files a directory's content hash leaves out: they describe the content, they are not it.
HASH_EXCLUDES = frozenset({MANIFEST_NAME, RECORD_NAME})
#: Version 2 added ``record_hash``, ``signatures`` and the inputs' ``record_hash``.
RECORD_SCHEMA = "ptyflow.provenance/2"
#: Fields outside a record's canonical content: the hash itself, and signatures over it.
_UNHASHED = ("record_hash", "signatures")


class ArtifactRef(BaseModel):
    """An input or output: where it was, its content hash, and its own record's id and hash."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    content_hash: str
    record_id: str | None = None
    record_hash: str | None = None


class Signature(BaseModel):
    """An Ed25519 signature over a record's canonical content (``ptyflow provenance sign``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    algorithm: Literal["ed25519"] = "ed25519"
    public_key: str  # "ed25519:<base64 of the 32-byte raw public key>"
    signed_utc: datetime
    signature: str  # base64


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
    record_hash: str | None = None  # set when written (see seal_record)
    signatures: list[Signature] = Field(default_factory=list)


def canonical_bytes(record: Mapping[str, Any]) -> bytes:
    """A record's canonical content: its JSON without ``record_hash`` and ``signatures``,
    keys sorted, no whitespace, UTF-8. ``record`` is the JSON object as read from the file."""
    content = {k: v for k, v in record.items() if k not in _UNHASHED}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def record_hash_of(record: Mapping[str, Any]) -> str:
    """``sha256:<hex>`` of :func:`canonical_bytes`."""
    return HASH_PREFIX + hashlib.sha256(canonical_bytes(record)).hexdigest()


def _as_json(record: ProvenanceRecord) -> dict[str, Any]:
    """The record as the JSON object its file holds (so hashing it equals hashing the file)."""
    data: dict[str, Any] = json.loads(record.model_dump_json())
    return data


def seal_record(record: ProvenanceRecord) -> ProvenanceRecord:
    """The record with ``record_hash`` set to the hash of its current content."""
    return record.model_copy(update={"record_hash": record_hash_of(_as_json(record))})


def record_path(artifact: str | Path) -> Path:
    """Where the record of ``artifact`` lives (inside a directory, beside a file)."""
    artifact = Path(artifact)
    return artifact / RECORD_NAME if artifact.is_dir() else Path(f"{artifact}.prov.json")


def content_hash(artifact: str | Path, *, threads: int | None = None) -> str:
    """SHA-256 of a file, or the tree hash of a directory's files (record and manifest excluded)."""
    artifact = Path(artifact)
    if artifact.is_dir():
        return tree_hash(build_manifest(artifact, exclude=HASH_EXCLUDES, threads=threads))
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
    """Open a record for an activity about to run (``simulate``, ``acquire``, ...).

    ``config`` is the *resolved* config (the validated model, defaults filled in): it is
    what ``ptyflow provenance rerun`` re-executes.
    """
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


def record_file(path: str | Path) -> Path:
    """``path`` itself if it is a record file (``provenance.json``, ``*.prov.json``), else
    the record file of the artifact ``path``."""
    path = Path(path)
    if path.is_dir() or not (path.name == RECORD_NAME or path.name.endswith(".prov.json")):
        return record_path(path)
    return path


def read_record_json(path: str | Path) -> tuple[Path, dict[str, Any]]:
    """The record file of ``path`` (a record file or its artifact) and its raw JSON object."""
    if not Path(path).exists():
        raise ProvenanceError(f"{path}: no such artifact (file or directory)")
    path = record_file(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProvenanceError(f"{path}: no provenance record") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ProvenanceError(f"{path}: unreadable provenance record: {err}") from None
    if not isinstance(data, dict):
        raise ProvenanceError(f"{path}: invalid provenance record: not a JSON object")
    return path, data


def read_record(path: str | Path) -> ProvenanceRecord:
    """Read a record from its file (``provenance.json``, ``*.prov.json``) or its artifact."""
    path, data = read_record_json(path)
    try:
        return ProvenanceRecord.model_validate(data)
    except ValidationError as err:
        raise ProvenanceError(f"{path}: invalid provenance record: {err}") from None


def artifact_ref(path: str | Path) -> ArtifactRef:
    """Reference an existing artifact as an input: its content hash, its record's id and hash."""
    try:
        record: ProvenanceRecord | None = read_record(record_path(path))
    except ProvenanceError:  # an external input (a user's file) carries no record
        record = None
    return ArtifactRef(
        path=str(Path(path).resolve()),
        content_hash=content_hash(path),
        record_id=None if record is None else record.record_id,
        record_hash=None if record is None else record.record_hash,
    )


def write_record(record: ProvenanceRecord, path: str | Path) -> Path:
    """Seal ``record`` (:func:`seal_record`), write it as JSON atomically, return its path."""
    path = Path(path)
    write_text_atomic(path, seal_record(record).model_dump_json(indent=2))
    return path
