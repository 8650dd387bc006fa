"""verify --ancestors over a real chain (simulate → its ground truth): passes untouched and
fails, naming the file, after each kind of tampering."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ptyflow import provenance as prov
from ptyflow.errors import ProvenanceError
from ptyflow.provenance import Problem

from .conftest import simulate_small

Sim = tuple[Path, Path]


def _shard(store: Path) -> Path:
    """The first shard file of the store's data."""
    return next(p for p in sorted((store / "data" / "c").rglob("*")) if p.is_file())


def _problems(truth: Path, **kwargs: object) -> list[Problem]:
    report = prov.verify_chain(truth, **kwargs)  # type: ignore[arg-type]
    return report.problems


def _edit_json(path: Path, edit: object) -> None:
    data = json.loads(path.read_text())
    edit(data)  # type: ignore[operator]
    path.write_text(json.dumps(data, indent=2))


def test_untouched_chain_verifies_with_every_file_hashed(simulated: Sim) -> None:
    store, truth = simulated
    report = prov.verify_chain(truth, threads=2)
    assert report.ok, report.problems
    assert [s.record.activity for s in report.steps] == ["simulate.truth", "simulate"]
    n_files = len(prov.build_manifest(store, prov.HASH_EXCLUDES))
    n_files += len(prov.build_manifest(truth, prov.HASH_EXCLUDES))
    assert report.files_hashed == n_files
    sizes = [p.stat().st_size for a in (store, truth) for p in a.rglob("*") if p.is_file()]
    excluded = [p.stat().st_size for a in (store, truth) for p in a.glob("*.json")]
    assert report.bytes_hashed <= sum(sizes) and report.bytes_hashed >= sum(sizes) - sum(excluded)


def test_one_byte_of_a_shard_changed_is_named(simulated: Sim) -> None:
    store, truth = simulated
    shard = _shard(store)
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0x01
    shard.write_bytes(bytes(data))
    problems = _problems(truth)
    assert [p.path for p in problems] == [shard]
    assert "checksum differs" in problems[0].message
    # Without --ancestors only the truth is checked, and it is intact.
    assert prov.verify_chain(truth, ancestors=False).ok


def test_deleted_shard_is_named(simulated: Sim) -> None:
    store, truth = simulated
    shard = _shard(store)
    shard.unlink()
    (problem,) = _problems(truth)
    assert problem.path == shard and "missing" in problem.message


def test_edited_record_breaks_the_chain_where_it_was_edited(simulated: Sim) -> None:
    store, truth = simulated
    record = store / prov.RECORD_NAME
    _edit_json(record, lambda d: d["config"]["dose"].update(seed=7))
    (problem,) = _problems(truth)
    assert problem.path == record and "record edited" in problem.message
    # A forger who also recomputes the record hash is caught by the child's link.
    _edit_json(record, lambda d: d.update(record_hash=prov.record_hash_of(d)))
    (problem,) = _problems(truth)
    assert problem.path == record
    assert "which" in problem.message and str(truth / prov.RECORD_NAME) in problem.message
    # The edited store alone now looks sealed: only the chain shows it.
    assert prov.verify_chain(store, ancestors=False).ok


def test_edited_manifest_is_named(simulated: Sim) -> None:
    store, truth = simulated
    shard = _shard(store)
    shard.write_bytes(shard.read_bytes() + b"x")
    manifest = store / prov.MANIFEST_NAME
    rel = shard.relative_to(store).as_posix()
    _edit_json(manifest, lambda d: d[rel].update(sha256=prov.sha256_file(shard)))
    (problem,) = _problems(truth)
    assert problem.path == manifest and "edited" in problem.message


def test_parent_swapped_for_a_different_store_is_named(
    simulated_fresh: Sim, tmp_path: Path
) -> None:
    store, truth = simulated_fresh
    other, _ = simulate_small(tmp_path / "other.zarr", dose={"seed": 1})
    shutil.rmtree(store)
    shutil.copytree(other, store)
    shutil.rmtree(other)  # the truth's real input is gone, a look-alike in its place
    (problem,) = _problems(truth)
    assert problem.path == store.resolve()
    assert "holds another artifact" in problem.message


def test_missing_parent_is_a_broken_link(simulated_fresh: Sim) -> None:
    store, truth = simulated_fresh
    shutil.rmtree(store)
    (problem,) = _problems(truth)
    assert problem.path == truth / prov.RECORD_NAME
    assert "not found" in problem.message and str(store.resolve()) in problem.message


def test_chain_verifies_after_rsync_with_the_original_removed(
    simulated_fresh: Sim, tmp_path: Path
) -> None:
    store, _ = simulated_fresh
    cluster = tmp_path / "cluster"
    shutil.copytree(store.parent, cluster / "run")
    shutil.rmtree(store.parent)
    assert prov.verify_chain(cluster / "run" / "s.truth").ok
    # Products and data in separate places: the data are found through a search path.
    shutil.move(cluster / "run" / "s.zarr", cluster / "archive" / "2026" / "s.zarr")
    assert not prov.verify_chain(cluster / "run" / "s.truth").ok
    report = prov.verify_chain(cluster / "run" / "s.truth", search=[cluster / "archive"])
    assert report.ok and report.steps[1].artifact == cluster / "archive" / "2026" / "s.zarr"


def test_signatures_vouch_and_forgeries_are_named(simulated: Sim, tmp_path: Path) -> None:
    _, truth = simulated
    key, public = prov.generate_key(tmp_path / "facility.key")
    assert key.stat().st_mode & 0o077 == 0  # the private key is readable by its owner only
    assert (tmp_path / "facility.key.pub").read_text().strip() == public
    trust = prov.Trust(keys={"facility": public}, require_signature=True)
    record = truth / prov.RECORD_NAME

    (problem,) = _problems(truth, trust=trust)
    assert problem.path == record and "not signed by a trusted key" in problem.message
    prov.sign_record(truth, key)
    assert prov.verify_chain(truth, trust=trust).ok

    # Forged: the record edited and its hash recomputed; the signature no longer holds.
    signed = record.read_text()
    _edit_json(record, lambda d: d["environment"].update(user="someone else"))
    _edit_json(record, lambda d: d.update(record_hash=prov.record_hash_of(d)))
    messages = [str(p) for p in _problems(truth, trust=trust)]
    assert f"{record}: signature by facility does not verify" in messages[0]

    # ... and re-signed with the forger's own key: valid, but not trusted.
    record.write_text(signed)
    _edit_json(record, lambda d: d.update(signatures=[]))
    forger, _ = prov.generate_key(tmp_path / "forger.key")
    prov.sign_record(truth, forger)
    messages = [str(p) for p in _problems(truth, trust=trust)]
    assert any("not a trusted key" in m for m in messages)
    assert any("not signed by a trusted key" in m for m in messages)


def test_signing_refuses_an_edited_record(simulated: Sim, tmp_path: Path) -> None:
    store, _ = simulated
    key, _ = prov.generate_key(tmp_path / "k")
    _edit_json(store / prov.RECORD_NAME, lambda d: d.update(activity="made up"))
    with pytest.raises(ProvenanceError, match="refusing to sign"):
        prov.sign_record(store, key)


def test_schema_1_record_is_reported_unsealed(simulated: Sim) -> None:
    store, _ = simulated
    _edit_json(store / prov.RECORD_NAME, lambda d: d.update(record_schema="ptyflow.provenance/1"))
    _edit_json(store / prov.RECORD_NAME, lambda d: d.pop("record_hash"))
    (problem,) = _problems(store)
    assert "no record_hash" in problem.message and "ptyflow.provenance/1" in problem.message
