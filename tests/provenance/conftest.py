"""Fixtures for the lineage and export tests: real artifacts with their records."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from ptyflow import provenance as prov

MakeArtifact = Callable[..., prov.ProvenanceRecord]


def _make_artifact(path: Path, activity: str, inputs: Sequence[Path] = ()) -> prov.ProvenanceRecord:
    """Write ``path`` (a file if it has a suffix, else a directory) and its finished record."""
    record = prov.start_record(
        activity,
        config={"activity": activity, "step_A": 0.4},
        inputs=[prov.artifact_ref(i) for i in inputs],
        command=["ptyflow", activity, *map(str, inputs)],
    )
    if path.suffix:
        path.write_bytes(f"{activity} result".encode())
    else:
        path.mkdir()
        (path / "data.bin").write_bytes(activity.encode() * 100)
    record = prov.finish_record(record, [prov.artifact_ref(path)])
    prov.write_record(record, prov.record_path(path))
    return record


@pytest.fixture
def make_artifact() -> MakeArtifact:
    """``make_artifact(path, activity, inputs=())``: the artifact and its record, written."""
    return _make_artifact


@pytest.fixture
def chain(tmp_path: Path) -> tuple[Path, Path, Path]:
    """raw/ (acquire) → binned/ (compress, from raw) → phase.npy (reconstruct, from binned)."""
    raw, binned, phase = tmp_path / "raw", tmp_path / "binned", tmp_path / "phase.npy"
    _make_artifact(raw, "acquire")
    _make_artifact(binned, "compress", [raw])
    _make_artifact(phase, "reconstruct", [binned])
    return raw, binned, phase
