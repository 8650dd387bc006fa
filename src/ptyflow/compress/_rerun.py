"""Re-running a compression from its provenance record (``ptyflow provenance rerun``).

The kernels are deterministic on the CPU (integer sums for binning; a fixed order of float32
products for virtual detectors), so a rerun must give the same bytes; only the store's
acquisition timestamps may differ.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ptyflow.compress._store import compress_store
from ptyflow.config import recorded_config
from ptyflow.config.compress import CompressCommandConfig
from ptyflow.dataset import compare_stores
from ptyflow.provenance import FileComparison, ProvenanceRecord

__all__ = ["RERUN"]


@dataclass(frozen=True)
class _CompressRerunner:
    criterion: str = "bit-identical (store timestamps aside)"

    def rerun(self, record: ProvenanceRecord, inputs: Sequence[Path], out: Path) -> Path:
        config = recorded_config(record, CompressCommandConfig, inputs, expected_inputs=1)
        return compress_store(inputs[0], out, config, progress=False).store

    def compare(self, original: Path, new: Path) -> list[FileComparison]:
        return compare_stores(original, new)


RERUN = _CompressRerunner()
