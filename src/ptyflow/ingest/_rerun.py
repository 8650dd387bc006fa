"""Re-running an import from its provenance record (``ptyflow provenance rerun``).

An import copies the frames (cast exactly to the stored dtype) and the config's calibration,
so a rerun from the same source file must give the same bytes; only the store's
acquisition timestamps may differ. The recorded inputs are, in order, the source file and
the optional ``frames_received`` and ``positions`` files; the rerun reads them where they
were found again by content hash.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ptyflow.config import recorded_config
from ptyflow.config.import_ import ImportConfig
from ptyflow.dataset import compare_stores
from ptyflow.ingest._run import run_import
from ptyflow.provenance import FileComparison, ProvenanceRecord

__all__ = ["RERUN"]


def _n_inputs(config: ImportConfig) -> int:
    """The source file, and the optional files the config names."""
    optional = (config.source.frames_received_path, config.scan.positions_path)
    return 1 + sum(p is not None for p in optional)


def _with_found_inputs(config: ImportConfig, inputs: Sequence[Path]) -> ImportConfig:
    """``config`` reading its optional input files where they were found again."""
    found = iter(inputs[1:])
    source, scan = config.source, config.scan
    if source.frames_received_path is not None:
        source = source.model_copy(update={"frames_received_path": next(found)})
    if scan.positions_path is not None:
        scan = scan.model_copy(update={"positions_path": next(found)})
    return config.model_copy(update={"source": source, "scan": scan})


@dataclass(frozen=True)
class _ImportRerunner:
    criterion: str = "bit-identical (store timestamps aside)"

    def rerun(self, record: ProvenanceRecord, inputs: Sequence[Path], out: Path) -> Path:
        config = recorded_config(record, ImportConfig, inputs, expected_inputs=_n_inputs)
        config = _with_found_inputs(config, inputs)
        return run_import(config, inputs[0], out, progress=False).store

    def compare(self, original: Path, new: Path) -> list[FileComparison]:
        return compare_stores(original, new)


RERUN = _ImportRerunner()
