"""``rerun`` of a CPU reconstruction in deterministic mode: the same bytes, figures included."""

from __future__ import annotations

from pathlib import Path

from ptyflow import provenance as prov
from ptyflow.config import apply_overrides, validate_config
from ptyflow.config.reconstruct import ReconstructConfig
from ptyflow.reconstruct import open_result, run_reconstruction
from ptyflow.testing import reference_store


def test_rerun_reproduces_a_deterministic_cpu_reconstruction_bit_for_bit(
    srtio3_dir: Path, tmp_path: Path
) -> None:
    tiny = tmp_path / "tiny.zarr"
    reference_store(srtio3_dir, tiny, "noisy", crop=(slice(12, 18), slice(12, 18)))
    overrides = ("optimizer.iterations=1", "optimizer.batch_size=12", "engine.deterministic=true")
    config = validate_config(apply_overrides({}, overrides), ReconstructConfig, "test")
    result = run_reconstruction(tiny, config, tmp_path / "a.zarr", progress=False).result
    # The dataset is found again by content hash after it moved.
    moved = tmp_path / "moved"
    moved.mkdir()
    tiny.rename(moved / "tiny.zarr")
    report = prov.rerun(result, tmp_path / "b.zarr", search=[moved])
    assert report.activity == "reconstruct" and report.reproduced
    matches = {f.path: f.match for f in report.files}
    assert "phase.tif" in matches and any(p.startswith("object/") for p in matches)
    assert set(matches.values()) == {prov.Match.IDENTICAL}
    assert (open_result(result).object == open_result(report.new).object).all()
