"""Check that an artifact still is what its provenance record says it is."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ptyflow.errors import ProvenanceError
from ptyflow.provenance._record import content_hash, read_record

__all__ = ["Verification", "verify_artifact"]


@dataclass(frozen=True)
class Verification:
    artifact: Path
    record_id: str
    expected_hash: str
    actual_hash: str

    @property
    def ok(self) -> bool:
        return self.expected_hash == self.actual_hash


def verify_artifact(artifact: str | Path) -> Verification:
    """Recompute the content hash of ``artifact`` and compare it with its own record.

    The expected hash is the record's output with the artifact's name (paths change
    under rsync, names do not), or its only output.
    """
    artifact = Path(artifact)
    record = read_record(artifact)
    actual = content_hash(artifact)
    named = [o for o in record.outputs if Path(o.path).name == artifact.name]
    candidates = named or record.outputs
    if len(candidates) != 1:
        raise ProvenanceError(
            f"{artifact}: its provenance record lists {len(record.outputs)} outputs and "
            f"none named {artifact.name!r}; cannot tell which one to verify"
        )
    return Verification(artifact, record.record_id, candidates[0].content_hash, actual)
