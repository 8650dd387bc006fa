"""Check that an artifact still is what its provenance record says it is."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ptyflow.errors import ProvenanceError
from ptyflow.provenance._hashing import ManifestEntry, build_manifest, tree_hash
from ptyflow.provenance._record import HASH_EXCLUDES, MANIFEST_NAME, content_hash, read_record

__all__ = ["Verification", "manifest_problems", "verify_artifact"]


@dataclass(frozen=True)
class Verification:
    """The outcome; ``problems`` names the files that differ from the artifact's manifest
    (on a mismatch of a directory that has one)."""

    artifact: Path
    record_id: str
    expected_hash: str
    actual_hash: str
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.expected_hash == self.actual_hash


def manifest_problems(
    root: Path,
    manifest: Mapping[str, ManifestEntry],
    current: Mapping[str, ManifestEntry] | None = None,
) -> list[str]:
    """Every file changed, missing or extra under ``root`` relative to ``manifest``.

    ``current`` is the directory's manifest now; without it every file is rehashed.
    """
    if current is None:
        current = build_manifest(root, exclude=HASH_EXCLUDES)
    problems = [
        f"{root / rel}: missing (listed in the manifest)" for rel in manifest if rel not in current
    ]
    problems += [
        f"{root / rel}: not listed in the manifest" for rel in current if rel not in manifest
    ]
    problems += [
        f"{root / rel}: checksum differs from the manifest (file modified)"
        for rel, entry in manifest.items()
        if rel in current and current[rel]["sha256"] != entry["sha256"]
    ]
    return problems


def _differences(artifact: Path, current: Mapping[str, ManifestEntry]) -> tuple[str, ...]:
    """The files that differ from the directory's own manifest, if it has a readable one."""
    source = artifact / MANIFEST_NAME
    try:
        manifest = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return (f"{source}: missing or unreadable, so the changed files cannot be named",)
    if not isinstance(manifest, dict) or not all(
        isinstance(e, dict) and "sha256" in e for e in manifest.values()
    ):
        return (f"{source}: not a manifest, so the changed files cannot be named",)
    problems = manifest_problems(artifact, manifest, current)
    return tuple(problems) or (f"{source}: the files match it; it and the record disagree",)


def verify_artifact(artifact: str | Path) -> Verification:
    """Recompute the content hash of ``artifact`` and compare it with its own record.

    The expected hash is the record's output with the artifact's name (paths change
    under rsync, names do not), or its only output.
    """
    artifact = Path(artifact)
    record = read_record(artifact)
    named = [o for o in record.outputs if Path(o.path).name == artifact.name]
    candidates = named or record.outputs
    if len(candidates) != 1:
        raise ProvenanceError(
            f"{artifact}: its provenance record lists {len(record.outputs)} outputs and "
            f"none named {artifact.name!r}; cannot tell which one to verify"
        )
    expected = candidates[0].content_hash
    if not artifact.is_dir():
        return Verification(artifact, record.record_id, expected, content_hash(artifact))
    current = build_manifest(artifact, exclude=HASH_EXCLUDES)
    actual = tree_hash(current)
    problems = () if actual == expected else _differences(artifact, current)
    return Verification(artifact, record.record_id, expected, actual, problems)
