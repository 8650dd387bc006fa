"""Provenance records and content hashes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ptyflow import provenance as prov
from ptyflow.errors import ProvenanceError


def _tree(root: Path) -> Path:
    (root / "sub" / "deep").mkdir(parents=True)
    (root / "a.bin").write_bytes(b"\x00\x01" * 1000)
    (root / "sub" / "b.txt").write_text("hello")
    (root / "sub" / "deep" / "c").write_bytes(b"")
    return root


def test_sha256_file_matches_hashlib(tmp_path: Path) -> None:
    import hashlib

    data = bytes(range(256)) * 9000  # larger than one read block
    (tmp_path / "f").write_bytes(data)
    assert prov.sha256_file(tmp_path / "f") == hashlib.sha256(data).hexdigest()


def test_tree_hash_is_identical_after_copy_and_changes_with_content(tmp_path: Path) -> None:
    src = _tree(tmp_path / "src")
    dst = tmp_path / "elsewhere" / "copy"
    shutil.copytree(src, dst)  # new mtimes, new absolute paths
    assert prov.content_hash(src) == prov.content_hash(dst)
    (dst / "sub" / "b.txt").write_text("hellO")
    assert prov.content_hash(src) != prov.content_hash(dst)


def test_tree_hash_depends_on_paths_not_just_bytes(tmp_path: Path) -> None:
    one = _tree(tmp_path / "one")
    two = _tree(tmp_path / "two")
    (two / "sub" / "b.txt").rename(two / "sub" / "renamed.txt")
    assert prov.content_hash(one) != prov.content_hash(two)


def test_manifest_excludes_record_and_manifest(tmp_path: Path) -> None:
    root = _tree(tmp_path / "t")
    before = prov.content_hash(root)
    (root / prov.MANIFEST_NAME).write_text("{}")
    (root / prov.RECORD_NAME).write_text("{}")
    assert prov.content_hash(root) == before
    manifest = prov.build_manifest(root, exclude={prov.MANIFEST_NAME})
    assert set(manifest) == {"a.bin", "sub/b.txt", "sub/deep/c", prov.RECORD_NAME}
    assert manifest["a.bin"]["size_bytes"] == 2000


def test_record_round_trip_and_verify(tmp_path: Path) -> None:
    root = _tree(tmp_path / "artifact")
    rec = prov.start_record("test", config={"step_A": 0.4}, command=["ptyflow", "test"])
    rec = prov.finish_record(rec, [prov.artifact_ref(root)])
    prov.write_record(rec, prov.record_path(root))
    back = prov.read_record(root)
    assert back == prov.seal_record(rec) and back.record_hash is not None
    assert back.config == {"step_A": 0.4}
    assert back.environment.packages["numpy"]
    assert back.ended_utc is not None and back.ended_utc >= back.started_utc
    moved = tmp_path / "moved"
    shutil.copytree(root, moved / root.name)
    assert prov.verify_artifact(moved / root.name).ok
    (moved / root.name / "a.bin").write_bytes(b"tampered")
    check = prov.verify_artifact(moved / root.name)
    assert not check.ok
    assert check.expected_hash == rec.outputs[0].content_hash


def test_inputs_carry_their_record_ids(tmp_path: Path) -> None:
    parent = _tree(tmp_path / "parent")
    rec = prov.finish_record(prov.start_record("make"), [prov.artifact_ref(parent)])
    prov.write_record(rec, prov.record_path(parent))
    child = prov.start_record("use", inputs=[prov.artifact_ref(parent)])
    assert child.inputs[0].record_id == rec.record_id
    assert child.inputs[0].content_hash == rec.outputs[0].content_hash


def test_file_artifact_record_sits_beside_it(tmp_path: Path) -> None:
    f = tmp_path / "phase.npy"
    f.write_bytes(b"abc")
    rec = prov.finish_record(prov.start_record("x"), [prov.artifact_ref(f)])
    path = prov.write_record(rec, prov.record_path(f))
    assert path == tmp_path / "phase.npy.prov.json"
    assert prov.verify_artifact(f).ok


def test_bad_records_give_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ProvenanceError, match="no provenance record"):
        prov.read_record(tmp_path)
    (tmp_path / prov.RECORD_NAME).write_text(json.dumps({"activity": 3}))
    with pytest.raises(ProvenanceError, match="invalid provenance record"):
        prov.read_record(tmp_path)
    with pytest.raises(ProvenanceError, match="no such file"):
        prov.content_hash(tmp_path / "missing")


def test_symlinks_inside_artifacts_are_refused(tmp_path: Path) -> None:
    root = _tree(tmp_path / "t")
    (root / "link").symlink_to(root / "a.bin")
    with pytest.raises(ProvenanceError, match="symbolic links"):
        prov.content_hash(root)


def test_json_file_artifact_is_hashed_not_taken_for_a_record(tmp_path: Path) -> None:
    data = tmp_path / "positions.json"
    data.write_text("[1, 2]")
    rec = prov.finish_record(prov.start_record("x"), [prov.artifact_ref(data)])
    prov.write_record(rec, prov.record_path(data))
    ref = prov.artifact_ref(data)
    assert ref.record_id == rec.record_id
    assert ref.content_hash == prov.HASH_PREFIX + prov.sha256_file(data)


def test_command_names_ptyflow_under_python_m(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.argv", ["/x/site-packages/ptyflow/__main__.py", "simulate", "a"])
    assert prov.start_record("simulate").command == ["ptyflow", "simulate", "a"]


def test_public_surface_resolves_including_lazy_names() -> None:
    for name in prov.__all__:
        assert getattr(prov, name) is not None, name
    # Every stage imports this package to write records: it must not pull in the export
    # and signing libraries (imported on first use of to_prov, sign_record, ...).
    code = (
        "import sys, ptyflow.provenance; "
        "print(sorted({'rocrate', 'cryptography'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
