"""verify --ancestors across stages: simulate → compress (bin 2) → reconstruct. The result's
chain reaches the simulation; damage anywhere upstream is named where it is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ptyflow import provenance as prov
from ptyflow.compress import compress_store
from ptyflow.config import apply_overrides, validate_config
from ptyflow.config.compress import CompressCommandConfig
from ptyflow.config.reconstruct import ReconstructConfig
from ptyflow.reconstruct import run_reconstruction

from .conftest import simulate_small


@pytest.fixture
def pipeline(tmp_path: Path) -> tuple[Path, Path, Path]:
    """``(simulated, binned, result)``: each made from the one before."""
    store, _ = simulate_small(tmp_path / "s.zarr")
    binned = tmp_path / "s-bin2.zarr"
    bin2 = validate_config(
        {"compress": {"kind": "bin", "bin": {"factor": 2}}}, CompressCommandConfig
    )
    compress_store(store, binned, bin2, progress=False)
    overrides = ("optimizer.iterations=1", "engine.deterministic=true")
    config = validate_config(apply_overrides({}, overrides), ReconstructConfig, "test")
    result = run_reconstruction(binned, config, tmp_path / "r.zarr", progress=False).result
    return store, binned, result


def test_result_chain_reaches_the_simulation_and_names_upstream_damage(
    pipeline: tuple[Path, Path, Path],
) -> None:
    store, _, result = pipeline
    report = prov.verify_chain(result, threads=2)
    assert report.ok, report.problems
    activities = [s.record.activity for s in report.steps]
    assert activities[:3] == ["reconstruct", "compress", "simulate"]

    # One byte of a shard of the simulated store, two steps upstream of the result.
    shard = next(p for p in sorted((store / "data" / "c").rglob("*")) if p.is_file())
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0x01
    shard.write_bytes(bytes(data))
    assert [p.path for p in prov.verify_chain(result).problems] == [shard]
    assert prov.verify_chain(result, ancestors=False).ok  # the result itself is intact


def test_edited_middle_record_breaks_the_chain_there(pipeline: tuple[Path, Path, Path]) -> None:
    _, binned, result = pipeline
    record = binned / prov.RECORD_NAME
    doc = json.loads(record.read_text())
    doc["host"] = "somewhere-else"
    record.write_text(json.dumps(doc, indent=2))
    problems = prov.verify_chain(result).problems
    # Named where it broke: the binned store's record no longer hashes to what the result's
    # record says its input's record was.
    assert problems and {p.path for p in problems} <= {binned, record}, problems
    assert any("record" in p.message for p in problems), problems
