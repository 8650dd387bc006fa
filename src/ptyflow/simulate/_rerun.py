"""Re-running a simulation from its provenance record (``ptyflow provenance rerun``).

The simulator is deterministic on the CPU (seeded noise per scan row, seeded position
errors), so a rerun must reproduce every file bit for bit; the only bytes allowed to differ
are the store's acquisition timestamps in ``zarr.json``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ptyflow.config import recorded_config
from ptyflow.config.simulate import PhaseImageSpecimen, SimulateConfig
from ptyflow.dataset import compare_stores
from ptyflow.provenance import FileComparison, ProvenanceRecord, compare_trees
from ptyflow.simulate._run import run_simulation

__all__ = ["STORE", "TRUTH"]


def _config(record: ProvenanceRecord, inputs: Sequence[Path]) -> SimulateConfig:
    config = recorded_config(record, SimulateConfig, inputs, expected_inputs=None)
    if isinstance(config.specimen, PhaseImageSpecimen):
        # The phase image is an input: use it where it was found again (by content hash).
        name = Path(config.specimen.path).name
        found = [p for p in inputs if p.name == name]
        if found:
            specimen = config.specimen.model_copy(update={"path": found[0]})
            config = config.model_copy(update={"specimen": specimen})
    return config


@dataclass(frozen=True)
class _SimulateRerunner:
    truth: bool  # compare the ground truth (record "simulate.truth") rather than the store
    criterion: str = "bit-identical (store timestamps aside)"

    def rerun(self, record: ProvenanceRecord, inputs: Sequence[Path], out: Path) -> Path:
        # A ground truth is made with its store: OUT.truth comes with OUT.zarr.
        store = out.with_suffix(".zarr") if self.truth else out
        result = run_simulation(_config(record, inputs), store, progress=False)
        return result.truth if self.truth else result.store

    def compare(self, original: Path, new: Path) -> list[FileComparison]:
        return compare_trees(original, new) if self.truth else compare_stores(original, new)


STORE = _SimulateRerunner(truth=False)
TRUTH = _SimulateRerunner(truth=True)
