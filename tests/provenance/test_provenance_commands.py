"""The provenance commands as a user meets them: show, verify, rerun, sign, keygen; the
required-fields check each stage's test uses; the provenance config and its template."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from ptyflow import provenance as prov
from ptyflow.config import load_toml
from ptyflow.config.provenance import ProvenanceConfig
from ptyflow.errors import ConfigError, ProvenanceError
from ptyflow.testing import undocumented_keys

Sim = tuple[Path, Path]
RunPtyflow = Callable[..., subprocess.CompletedProcess[str]]
Cli = Callable[..., tuple[int, str]]
TEMPLATE = Path(__file__).resolve().parents[2] / "configs" / "provenance.toml"


# -- every stage's record carries the required fields (one line per stage)


def test_simulate_records_are_complete(simulated: Sim) -> None:
    store, truth = simulated
    prov.check_record(store, activity="simulate", seeds=["dose.seed", "scan.jitter_seed"])
    prov.check_record(truth, activity="simulate.truth", inputs=[store], compute=True)


def test_incomplete_record_is_named_field_by_field(simulated: Sim) -> None:
    store, truth = simulated
    record = prov.read_record(truth)
    bare = record.model_copy(update={"config": None, "ended_utc": None, "inputs": []})
    prov.write_record(bare, prov.record_path(truth))
    problems = prov.record_field_problems(truth, activity="simulate.truth", inputs=[store])
    assert [p.split(": ", 1)[1] for p in problems] == [
        "config: missing or wrong",
        "ended_utc: missing or wrong",
        "inputs: 0 recorded, expected 1",
    ]
    with pytest.raises(ProvenanceError, match="config: missing"):
        prov.check_record(truth, activity="simulate.truth", inputs=[store])
    with pytest.raises(ProvenanceError, match=r"config.dose.nope: expected an integer seed"):
        prov.check_record(store, activity="simulate", seeds=["dose.nope"])


# -- show


def test_show_prints_the_lineage_and_the_same_as_json(cli: Cli, simulated: Sim) -> None:
    store, truth = simulated
    code, out = cli("provenance", "show", truth)
    assert code == 0
    assert out.index(f"{truth} ← simulate.truth") < out.index("made from")
    assert out.index("made from") < out.index(f"{store} ← simulate\n")
    assert "the first step" in out and prov.read_record(store).record_id in out
    code, as_json = cli("provenance", "show", truth, "--json")
    doc = json.loads(as_json)
    assert [s["record"]["activity"] for s in doc["lineage"]] == ["simulate.truth", "simulate"]
    assert doc["lineage"][0]["inputs"][0]["found_at"] == str(store)
    assert doc["lineage"][1]["record"] == json.loads(prov.read_record(store).model_dump_json())


# -- verify


def test_cli_verify_ancestors_names_the_changed_file(run_cli: RunPtyflow, simulated: Sim) -> None:
    store, truth = simulated
    ok = run_cli("provenance", "verify", truth, "--ancestors", "--threads", "2")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "verified" in ok.stdout and "2 record(s)" in ok.stdout
    probe = truth / "probe.npy"
    probe.write_bytes(probe.read_bytes()[:-1] + b"\x00")
    (store / "frames_received" / "zarr.json").unlink()
    bad = run_cli("provenance", "verify", truth, "--ancestors", "--no-progress")
    assert bad.returncode == 1
    assert f"FAILED {store / 'frames_received' / 'zarr.json'}: missing" in bad.stdout
    # The truth is sealed with a manifest like a store, so the changed file is named.
    assert f"FAILED {truth / 'probe.npy'}: checksum differs" in bad.stdout
    assert "Traceback" not in bad.stderr


# -- rerun


def test_rerun_reproduces_a_simulation_bit_for_bit(
    cli: Cli, simulated: Sim, tmp_path: Path
) -> None:
    store, _ = simulated
    code, out = cli("provenance", "rerun", store, "--out", tmp_path / "again.zarr")
    assert code == 0, out
    assert "reproduced (bit-identical" in out
    # Every data file is the same bytes; only zarr.json differs, in its timestamps alone.
    report = prov.rerun(store, tmp_path / "third.zarr")
    matches = {f.path: f.match for f in report.files}
    assert matches.pop("zarr.json") is prov.Match.EQUIVALENT
    assert set(matches.values()) == {prov.Match.IDENTICAL}
    assert len(matches) == len(prov.build_manifest(store, prov.HASH_EXCLUDES)) - 1


def test_rerun_of_a_ground_truth_and_of_a_changed_original(simulated: Sim, tmp_path: Path) -> None:
    _, truth = simulated
    report = prov.rerun(truth, tmp_path / "again.truth")
    assert report.new == tmp_path / "again.truth" and (tmp_path / "again.zarr").is_dir()
    assert report.reproduced and {f.match for f in report.files} == {prov.Match.IDENTICAL}
    phase = truth / "object_phase.npy"
    phase.write_bytes(phase.read_bytes() + b"\x00")
    changed = prov.rerun(truth, tmp_path / "third")
    assert not changed.reproduced
    assert [f.path for f in changed.files if f.match is prov.Match.DIFFERS] == ["object_phase.npy"]


def test_rerun_needs_its_inputs_and_a_known_step(
    simulated_fresh: Sim, make_artifact: Callable[..., prov.ProvenanceRecord], tmp_path: Path
) -> None:
    store, truth = simulated_fresh
    make_artifact(tmp_path / "x.npy", "mystery")
    with pytest.raises(ProvenanceError, match=r"cannot re-run a 'mystery' step.*simulate"):
        prov.rerun(tmp_path / "x.npy", tmp_path / "y.npy")
    with pytest.raises(ProvenanceError, match="already exists; rerun writes a new artifact"):
        prov.rerun(store, store)  # never over the original
    store.rename(tmp_path / "moved.zarr")
    with pytest.raises(ProvenanceError, match="unresolved; pass --search"):
        prov.rerun(truth, tmp_path / "again")
    assert prov.rerun(truth, tmp_path / "again", search=[tmp_path]).reproduced


# -- sign, keygen, trust from the config


def test_cli_keygen_sign_and_verify_against_the_config(
    run_cli: RunPtyflow, cli: Cli, simulated: Sim, tmp_path: Path
) -> None:
    _, truth = simulated
    made = run_cli("provenance", "keygen", "--out", "lab.key")
    assert made.returncode == 0, made.stderr
    public = (tmp_path / "lab.key.pub").read_text().strip()
    assert public in made.stdout
    assert run_cli("provenance", "keygen", "--out", "lab.key").returncode == 2  # no clobber
    config = tmp_path / "prov.toml"
    config.write_text(f'[trust]\nkeys = {{ lab = "{public}" }}\nrequire_signature = true\n')
    code, out = cli("provenance", "verify", truth, "--config", config, "--no-progress")
    assert code == 1 and "not signed by a trusted key" in out
    code, out = cli("provenance", "sign", truth, "--key", tmp_path / "lab.key")
    assert code == 0 and public in out
    code, out = cli("provenance", "verify", truth, "--ancestors", "--config", config)
    assert code == 0, out


def test_template_documents_every_option_and_loads() -> None:
    text = TEMPLATE.read_text()
    assert undocumented_keys(load_toml(TEMPLATE, ProvenanceConfig), text) == []


def test_bad_trusted_key_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text('[trust]\nkeys = { lab = "ssh-ed25519 AAAA" }\n')
    with pytest.raises(ConfigError, match=r"keys.*'lab'.*ed25519:"):
        load_toml(path, ProvenanceConfig)


def test_compression_records_verifies_down_the_chain_and_reruns(
    simulated: Sim, tmp_path: Path
) -> None:
    from ptyflow.compress import compress_store
    from ptyflow.config.compress import CompressCommandConfig

    store, _ = simulated
    config = CompressCommandConfig.model_validate({"compress": {"kind": "bin"}})
    binned = compress_store(store, store.parent / "binned.zarr", config, progress=False).store
    prov.check_record(binned, activity="compress", inputs=[store], compute=True)
    report = prov.verify_chain(binned)
    assert report.ok and [s.record.activity for s in report.steps] == ["compress", "simulate"]
    again = prov.rerun(binned, tmp_path / "again.zarr")
    assert again.reproduced and again.criterion.startswith("bit-identical")
    # Even zarr.json: a compressed store keeps its input's acquisition times.
    assert {f.match for f in again.files} == {prov.Match.IDENTICAL}
    shard = next(p for p in sorted((store / "data").rglob("*")) if p.is_file() and "/c/" in str(p))
    shard.write_bytes(shard.read_bytes()[:-1])
    (problem,) = prov.verify_chain(binned).problems
    assert problem.path == shard
