"""One sealing routine for every directory artifact: manifest.json, tree hash, record last."""

from __future__ import annotations

import json
from pathlib import Path

from ptyflow.provenance import content_hash, read_record, seal_directory, start_record


def test_seal_writes_manifest_and_record_with_the_tree_hash(tmp_path: Path) -> None:
    root = tmp_path / "artifact"
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_text("alpha")
    (root / "sub" / "b.bin").write_bytes(b"\x00\x01")
    record = start_record("test", command=["pytest"])
    digest = seal_directory(root, record, recorded_path=tmp_path / "final")
    manifest = json.loads((root / "manifest.json").read_text())
    assert sorted(manifest) == ["a.txt", "sub/b.bin"]  # manifest and record leave themselves out
    assert manifest["a.txt"]["size_bytes"] == 5
    assert digest == content_hash(root)
    written = read_record(root)
    assert [(o.path, o.content_hash) for o in written.outputs] == [
        (str((tmp_path / "final").resolve()), digest)
    ]
