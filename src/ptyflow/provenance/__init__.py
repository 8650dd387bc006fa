"""Provenance: a small library every stage calls.

Each artifact ptyflow writes carries a record of what made it (command, resolved config,
software versions and git commit, host, user, time), its inputs by content hash and record
id, and its own content hash. For directories the hash is a tree hash over the manifest,
so it survives rsync unchanged.
"""

from ptyflow.provenance.environment import Environment, capture_environment
from ptyflow.provenance.hashing import (
    HASH_PREFIX,
    ManifestEntry,
    build_manifest,
    sha256_file,
    tree_hash,
)
from ptyflow.provenance.record import (
    MANIFEST_NAME,
    RECORD_NAME,
    RECORD_SCHEMA,
    ArtifactRef,
    ProvenanceRecord,
    artifact_ref,
    content_hash,
    finish_record,
    read_record,
    record_path,
    start_record,
    write_record,
)
from ptyflow.provenance.verify import Verification, verify_artifact

__all__ = [
    "HASH_PREFIX",
    "MANIFEST_NAME",
    "RECORD_NAME",
    "RECORD_SCHEMA",
    "ArtifactRef",
    "Environment",
    "ManifestEntry",
    "ProvenanceRecord",
    "Verification",
    "artifact_ref",
    "build_manifest",
    "capture_environment",
    "content_hash",
    "finish_record",
    "read_record",
    "record_path",
    "sha256_file",
    "start_record",
    "tree_hash",
    "verify_artifact",
    "write_record",
]
