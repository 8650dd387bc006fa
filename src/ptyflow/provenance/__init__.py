"""Provenance: a small library every stage calls.

Each artifact ptyflow writes carries a record of what made it (command, resolved config,
software versions and git commit, host, user, time), its inputs by content hash and record
id, and its own content hash. For directories the hash is a tree hash over the manifest,
so it survives rsync unchanged. :func:`lineage` follows the records of the inputs back,
checking that each input still hashes to what was used; :func:`to_prov` and
:func:`to_ro_crate` export records as W3C PROV and RO-Crate.

Records are sealed (``record_hash`` over their canonical content; inputs carry their
parents' record hashes) and may be signed (Ed25519), so :func:`verify_chain` can prove
that neither the data nor any record in the chain changed. See ``docs/provenance.md``.
"""

from typing import TYPE_CHECKING, Any

from ptyflow.provenance._content import (
    Problem,
    expected_hash,
    manifest_differences,
    manifest_problems,
)
from ptyflow.provenance._environment import Environment, capture_environment
from ptyflow.provenance._hashing import (
    HASH_PREFIX,
    ManifestEntry,
    build_manifest,
    hash_files,
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
    Signature,
    artifact_ref,
    canonical_bytes,
    content_hash,
    finish_record,
    read_record,
    record_hash_of,
    record_path,
    seal_record,
    start_record,
    write_record,
)
from ptyflow.provenance._required import check_record, record_field_problems
from ptyflow.provenance._rerun import (
    FileComparison,
    Match,
    Rerunner,
    RerunReport,
    compare_trees,
    json_without,
    register_rerunner,
    rerun,
)
from ptyflow.provenance._resolve import InputFinder
from ptyflow.provenance._seal import seal_directory
from ptyflow.provenance._show import lineage_json, render_show
from ptyflow.provenance._verify import (
    ChainReport,
    Trust,
    Verification,
    verify_artifact,
    verify_chain,
)

if TYPE_CHECKING:
    from ptyflow.provenance._export import (
        PROCESS_RUN_CRATE,
        PTYFLOW_NAMESPACE,
        to_prov,
        to_ro_crate,
    )
    from ptyflow.provenance._signing import generate_key, public_key_text, sign_record

# Imported on first use: rocrate alone takes ~0.1 s to import and cryptography ~0.03 s, and
# every stage imports this package to write its records, which needs neither.
_LAZY = {
    **dict.fromkeys(
        ("PROCESS_RUN_CRATE", "PTYFLOW_NAMESPACE", "to_prov", "to_ro_crate"), "_export"
    ),
    **dict.fromkeys(("generate_key", "public_key_text", "sign_record"), "_signing"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"ptyflow.provenance.{_LAZY[name]}"), name)
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
    "ChainReport",
    "Environment",
    "FileComparison",
    "InputCheck",
    "InputFinder",
    "InputStatus",
    "LineageStep",
    "ManifestEntry",
    "Match",
    "Problem",
    "ProvenanceRecord",
    "RerunReport",
    "Rerunner",
    "Signature",
    "Trust",
    "Verification",
    "artifact_ref",
    "build_manifest",
    "canonical_bytes",
    "capture_environment",
    "check_record",
    "compare_trees",
    "content_hash",
    "expected_hash",
    "finish_record",
    "generate_key",
    "hash_files",
    "json_without",
    "lineage",
    "lineage_json",
    "manifest_differences",
    "manifest_problems",
    "public_key_text",
    "read_record",
    "record_field_problems",
    "record_hash_of",
    "record_path",
    "register_rerunner",
    "render_lineage",
    "render_show",
    "rerun",
    "seal_directory",
    "seal_record",
    "sha256_file",
    "sign_record",
    "start_record",
    "to_prov",
    "to_ro_crate",
    "tree_hash",
    "verify_artifact",
    "verify_chain",
    "write_record",
]
