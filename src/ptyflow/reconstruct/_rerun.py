"""Re-running a reconstruction from its provenance record (``ptyflow provenance rerun``).

With ``engine.deterministic`` on the CPU the batches come from a seeded generator
(``engine.seed``) and torch uses deterministic kernels, so a rerun gives the same bytes,
figures included. A GPU run, or one with deterministic mode off, may differ in the last
bits: the report then names the files that differ (no tolerance comparison yet).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ptyflow.config import recorded_config
from ptyflow.config.reconstruct import ReconstructConfig
from ptyflow.provenance import FileComparison, ProvenanceRecord, compare_trees

__all__ = ["RERUN"]


@dataclass(frozen=True)
class _ReconstructRerunner:
    criterion: str = "bit-identical (a deterministic CPU run)"

    def rerun(self, record: ProvenanceRecord, inputs: Sequence[Path], out: Path) -> Path:
        from ptyflow.reconstruct._engine import run_reconstruction  # imports torch

        config = recorded_config(record, ReconstructConfig, inputs, expected_inputs=1)
        return run_reconstruction(inputs[0], config, out, progress=False).result

    def compare(self, original: Path, new: Path) -> list[FileComparison]:
        return compare_trees(original, new)


RERUN = _ReconstructRerunner()
