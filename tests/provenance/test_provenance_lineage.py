"""Lineage: following records back through their inputs, checking each input on the way."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console

from ptyflow import provenance as prov
from ptyflow.config import load_toml
from ptyflow.config.simulate import SimulateConfig
from ptyflow.errors import ProvenanceError
from ptyflow.provenance import _resolve
from ptyflow.simulate import run_simulation

Chain = tuple[Path, Path, Path]
MakeArtifact = Callable[..., prov.ProvenanceRecord]
RunPtyflow = Callable[..., subprocess.CompletedProcess[str]]
S = prov.InputStatus


def _ids(*artifacts: Path) -> list[str]:
    return [prov.read_record(prov.record_path(a)).record_id for a in artifacts]


def _statuses(steps: list[prov.LineageStep]) -> list[list[prov.InputStatus]]:
    return [[check.status for check in step.inputs] for step in steps]


def _text(steps: list[prov.LineageStep]) -> str:
    console = Console(record=True, width=300)
    console.print(prov.render_lineage(steps))
    return console.export_text()


def test_lineage_follows_inputs_in_order(chain: Chain) -> None:
    raw, binned, phase = chain
    steps = prov.lineage(phase)
    assert [s.record.record_id for s in steps] == _ids(phase, binned, raw)
    assert [s.record.activity for s in steps] == ["reconstruct", "compress", "acquire"]
    assert [s.artifact for s in steps] == [phase, binned.resolve(), raw.resolve()]
    assert _statuses(steps) == [[S.MATCHES], [S.MATCHES], []]
    # Each input names the record that made it, and that record is the next step.
    assert [s.inputs[0].made_by for s in steps[:2]] == _ids(binned, raw)
    assert steps[0].inputs[0].current_hash == prov.content_hash(binned)


def test_modified_input_is_reported_changed(chain: Chain) -> None:
    raw, binned, phase = chain
    (binned / "data.bin").write_bytes(b"edited after phase.npy was made")
    steps = prov.lineage(phase)
    assert _statuses(steps) == [[S.CHANGED], [S.MATCHES], []]
    check = steps[0].inputs[0]
    assert check.current_hash == prov.content_hash(binned) != check.ref.content_hash
    # Its record still describes the bytes that were used, so the chain goes on through it.
    assert [s.record.record_id for s in steps] == _ids(phase, binned, raw)
    text = _text(steps)
    assert "✗ changed" in text and text.count("✓") == 1


def test_replaced_input_is_not_followed(chain: Chain, make_artifact: MakeArtifact) -> None:
    raw, binned, phase = chain
    used = prov.lineage(phase)[0].inputs[0].ref
    shutil.rmtree(binned)
    make_artifact(binned, "compress-again", [raw])  # new bytes, new record, same path
    steps = prov.lineage(phase)
    # The record now at the path did not make what phase.npy used: the chain stops there.
    assert [s.record.record_id for s in steps] == _ids(phase)
    check = steps[0].inputs[0]
    assert check.status is S.REPLACED and check.made_by is None and check.found_at is None
    assert check.ref == used
    assert "✗ replaced" in _text(steps)


def test_moved_input_is_unresolved_not_an_error(chain: Chain, tmp_path: Path) -> None:
    _, binned, phase = chain
    recorded = prov.lineage(phase)[0].inputs[0].ref
    (binned_id,) = _ids(binned)
    away = tmp_path / "away"
    away.mkdir()
    shutil.move(binned, away / "renamed")  # out of phase.npy's directory
    steps = prov.lineage(phase)
    assert len(steps) == 1 and _statuses(steps) == [[S.UNRESOLVED]]
    check = steps[0].inputs[0]
    assert check.ref == recorded  # path, hash and record id as the record saw them
    assert check.ref.path == str(binned.resolve()) and check.ref.record_id == binned_id
    assert check.current_hash is None and check.made_by is None
    assert "✗ not found" in _text(steps)
    # Given where to look, it is found by record id and content hash, under any name.
    found = prov.lineage(phase, search=[tmp_path / "away"])
    assert [s.record.activity for s in found] == ["reconstruct", "compress", "acquire"]
    assert found[0].inputs[0].found_at == away / "renamed"
    assert _statuses(found)[0] == [S.MATCHES]
    assert "found at" in _text(found)


def test_chain_survives_rsync_with_the_original_removed(chain: Chain, tmp_path: Path) -> None:
    # The whole run directory is copied elsewhere (rsync), the original deleted: every
    # input is found beside the artifact that used it, by record id and content hash.
    run_dir = tmp_path / "cluster" / "run"
    run_dir.mkdir(parents=True)
    for artifact in chain:
        target = run_dir / artifact.name
        if artifact.is_dir():
            shutil.copytree(artifact, target)
            shutil.rmtree(artifact)
        else:
            shutil.copy2(artifact, target)
            shutil.copy2(prov.record_path(artifact), prov.record_path(target))
            artifact.unlink()
    steps = prov.lineage(run_dir / "phase.npy")
    assert [s.record.activity for s in steps] == ["reconstruct", "compress", "acquire"]
    assert [s.artifact for s in steps[1:]] == [run_dir / "binned", run_dir / "raw"]
    assert _statuses(steps) == [[S.MATCHES], [S.MATCHES], []]


@pytest.mark.timeout(10)
def test_loops_do_not_hang(tmp_path: Path) -> None:
    # Two records that each claim the other's artifact as input: impossible in a real
    # run, but a hand-edited or merged record must not hang the walk.
    a, b = tmp_path / "a", tmp_path / "b"
    for path in (a, b):
        path.mkdir()
        (path / "x").write_text(path.name)
    rec_a, rec_b = prov.start_record("make-a"), prov.start_record("make-b")
    for rec, out, other, other_rec in ((rec_a, a, b, rec_b), (rec_b, b, a, rec_a)):
        used = prov.ArtifactRef(
            path=str(other), content_hash=prov.content_hash(other), record_id=other_rec.record_id
        )
        done = prov.finish_record(
            rec.model_copy(update={"inputs": [used]}), [prov.artifact_ref(out)]
        )
        prov.write_record(done, prov.record_path(out))
    steps = prov.lineage(a)
    assert [s.record.record_id for s in steps] == [rec_a.record_id, rec_b.record_id]
    assert steps[1].inputs[0].made_by == rec_a.record_id  # refers back, not walked again
    assert "(shown above)" in _text(steps)


def test_shared_input_is_listed_and_expanded_once(
    tmp_path: Path, make_artifact: MakeArtifact
) -> None:
    raw = tmp_path / "raw"
    make_artifact(raw, "acquire")
    make_artifact(tmp_path / "a", "bin", [raw])
    make_artifact(tmp_path / "b", "centre", [raw])
    make_artifact(tmp_path / "c.npy", "reconstruct", [tmp_path / "a", tmp_path / "b"])
    steps = prov.lineage(tmp_path / "c.npy")
    assert [s.record.activity for s in steps] == ["reconstruct", "bin", "acquire", "centre"]
    text = _text(steps)
    assert text.count("acquire") == 2 and text.count("(shown above)") == 1
    assert text.index("(shown above)") > text.index("acquire")


def test_without_rehash_inputs_are_not_read(chain: Chain, monkeypatch: pytest.MonkeyPatch) -> None:
    raw, binned, phase = chain

    def no_hashing(path: object) -> str:
        raise AssertionError(f"hashed {path}")

    monkeypatch.setattr(_resolve, "content_hash", no_hashing)
    steps = prov.lineage(phase, rehash=False)
    assert [s.record.record_id for s in steps] == _ids(phase, binned, raw)
    assert _statuses(steps) == [[S.UNCHECKED], [S.UNCHECKED], []]


def test_artifact_without_record_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ProvenanceError, match="no provenance record"):
        prov.lineage(tmp_path)


def test_simulated_truth_leads_back_to_its_store(tmp_path: Path, simulate_toml: Path) -> None:
    small = [
        "specimen.repeats=[4, 4, 2]",
        "specimen.defects=[]",
        "scan.shape=[4, 3]",
        "scan.center_A=[7.8, 7.8]",
        "numerics.oversampling=1",
    ]
    config = load_toml(simulate_toml, SimulateConfig, small)
    result = run_simulation(config, tmp_path / "x.zarr", progress=False)
    steps = prov.lineage(result.truth)
    assert [s.record.activity for s in steps] == ["simulate.truth", "simulate"]
    assert [s.record.record_id for s in steps] == _ids(result.truth, result.store)
    assert steps[1].artifact == result.store.resolve()
    assert _statuses(steps) == [[S.MATCHES], []]
    assert steps[0].inputs[0].current_hash == prov.verify_artifact(result.store).actual_hash


def test_cli_lineage(run_cli: RunPtyflow, chain: Chain) -> None:
    raw, binned, phase = chain
    ok = run_cli("provenance", "lineage", phase)
    assert ok.returncode == 0, ok.stderr
    for activity, record_id in zip(
        ["reconstruct", "compress", "acquire"], _ids(phase, binned, raw), strict=True
    ):
        assert f"{activity} " in ok.stdout and f"record {record_id[:8]}" in ok.stdout
    assert ok.stdout.count("✓") == 2 and "✗" not in ok.stdout
    assert prov.content_hash(raw)[:19] in ok.stdout  # "sha256:" and 12 hex digits

    (raw / "data.bin").write_bytes(b"tampered")
    bad = run_cli("provenance", "lineage", phase)
    assert bad.returncode == 1
    assert bad.stdout.count("✓") == 1 and "✗ changed" in bad.stdout

    unchecked = run_cli("provenance", "lineage", "--no-rehash", phase)
    assert unchecked.returncode == 0 and "not rehashed" in unchecked.stdout
