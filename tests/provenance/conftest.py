"""Fixtures for the lineage and export tests: real artifacts with their records."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

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


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str]]:
    """Run ``ptyflow ARGS`` in this process (no interpreter start-up): (exit code, stdout)."""
    from ptyflow.cli import main

    def run(*args: str | Path) -> tuple[int, str]:
        capsys.readouterr()
        code = main([str(a) for a in args])
        return code, capsys.readouterr().out

    return run


#: A tiny, fast simulation (about 0.2 s): 4×4 scan, 32×32 detector, thin SrTiO3.
SMALL_SIMULATION = {
    "specimen": {"kind": "crystal", "crystal": "SrTiO3_001", "repeats": [4, 4, 2]},
    "scan": {"shape": [4, 4], "step_A": [0.5, 0.5]},
    "detector": {"shape": [32, 32], "pixel_size_inv_A": 0.1},
    "numerics": {"oversampling": 1},
}


def simulate_small(store: Path, **sections: Any) -> tuple[Path, Path]:
    """Simulate the small dataset (``sections`` replace whole config sections) into
    ``store``; return ``(store, truth)``."""
    from ptyflow.config import validate_config
    from ptyflow.config.simulate import SimulateConfig
    from ptyflow.simulate import run_simulation

    config = validate_config({**SMALL_SIMULATION, **sections}, SimulateConfig)
    result = run_simulation(config, store, progress=False)
    return result.store, result.truth


@pytest.fixture(scope="session")
def simulated_pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding ``s.zarr`` and ``s.truth`` of one small simulation, never changed."""
    root = tmp_path_factory.mktemp("pristine")
    simulate_small(root / "s.zarr")
    return root


@pytest.fixture
def simulated(simulated_pristine: Path, tmp_path: Path) -> tuple[Path, Path]:
    """``(store, truth)``: a private copy of the small simulation in ``tmp_path/run``.

    Their records name the pristine paths, which still exist: use ``simulated_fresh`` where
    a test removes or replaces an input (else it would be found at its recorded path).
    """
    shutil.copytree(simulated_pristine, tmp_path / "run")
    return tmp_path / "run" / "s.zarr", tmp_path / "run" / "s.truth"


@pytest.fixture
def simulated_fresh(tmp_path: Path) -> tuple[Path, Path]:
    """``(store, truth)`` of a new small simulation in ``tmp_path/run``."""
    (tmp_path / "run").mkdir()
    return simulate_small(tmp_path / "run" / "s.zarr")
