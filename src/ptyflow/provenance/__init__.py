"""Provenance: a small library every stage calls.

Each artifact ptyflow writes carries a record of what made it (command, resolved config,
software versions and git commit, host, user, time), its inputs by content hash and record
id, and its own content hash. For directories the hash is a tree hash over the manifest,
so it survives rsync unchanged. :func:`lineage` follows the records of the inputs back,
checking that each input still hashes to what was used; :func:`to_prov` and
:func:`to_ro_crate` export records as W3C PROV and RO-Crate.
"""

from typing import TYPE_CHECKING, Any

from ptyflow.provenance._environment import Environment, capture_environment
from ptyflow.provenance._hashing import (
    HASH_PREFIX,
    ManifestEntry,
    build_manifest,
    sha256_file,
    tree_hash,
)
from ptyflow.provenance._lineage import (
    InputCheck,
    InputStatus,
    LineageStep,
    lineage,
    render_lineage,
)
from ptyflow.provenance._record import (
    HASH_EXCLUDES,
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
from ptyflow.provenance._seal import seal_directory
from ptyflow.provenance._verify import Verification, manifest_problems, verify_artifact

if TYPE_CHECKING:
    from ptyflow.provenance._export import (
        PROCESS_RUN_CRATE,
        PTYFLOW_NAMESPACE,
        to_prov,
        to_ro_crate,
    )

# Imported on first use: rocrate alone takes ~0.1 s to import, and every stage imports this
# package to write its records, which never needs the export formats.
_EXPORTS = frozenset({"PROCESS_RUN_CRATE", "PTYFLOW_NAMESPACE", "to_prov", "to_ro_crate"})


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        from ptyflow.provenance import _export

        return getattr(_export, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "HASH_EXCLUDES",
    "HASH_PREFIX",
    "MANIFEST_NAME",
    "PROCESS_RUN_CRATE",
    "PTYFLOW_NAMESPACE",
    "RECORD_NAME",
    "RECORD_SCHEMA",
    "ArtifactRef",
    "Environment",
    "InputCheck",
    "InputStatus",
    "LineageStep",
    "ManifestEntry",
    "ProvenanceRecord",
    "Verification",
    "artifact_ref",
    "build_manifest",
    "capture_environment",
    "content_hash",
    "finish_record",
    "lineage",
    "manifest_problems",
    "read_record",
    "record_path",
    "render_lineage",
    "seal_directory",
    "sha256_file",
    "start_record",
    "to_prov",
    "to_ro_crate",
    "tree_hash",
    "verify_artifact",
    "write_record",
]
