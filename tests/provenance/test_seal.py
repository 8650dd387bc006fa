"""One sealing routine for every directory artifact: manifest.json, tree hash, record last."""

from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path

import pytest

from ptyflow._files import fsync_path
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


def test_seal_puts_every_file_and_directory_on_disk_before_the_manifest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "artifact"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "a.txt").write_text("alpha")
    (root / "sub" / "deeper" / "b.bin").write_bytes(b"\x00\x01")
    synced: list[str] = []
    fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    seal_directory(root, start_record("test"))

    def first(name: str) -> int:
        return next(i for i, path in enumerate(synced) if Path(path).name.startswith(name))

    manifest = first(".manifest.json")  # its temp file, before the rename
    data = [str(root / "a.txt"), str(root / "sub" / "deeper" / "b.bin")]
    dirs = [str(root), str(root / "sub"), str(root / "sub" / "deeper")]
    assert all(synced.index(p) < manifest for p in data + dirs)
    assert first(".provenance.json") < manifest
    assert str(root) in synced[manifest:]  # the manifest's rename, made durable


def test_a_file_system_that_cannot_sync_directories_still_seals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "artifact"
    root.mkdir()
    (root / "a.txt").write_text("alpha")
    fsync = os.fsync

    def no_directory_fsync(fd: int) -> None:  # as CIFS and some FUSE mounts answer
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "Invalid argument")
        fsync(fd)

    monkeypatch.setattr(os, "fsync", no_directory_fsync)
    seal_directory(root, start_record("test"))
    assert (root / "manifest.json").is_file()

    def no_fsync(fd: int) -> None:
        raise OSError(errno.EINVAL, "Invalid argument")

    monkeypatch.setattr(os, "fsync", no_fsync)
    with pytest.raises(OSError, match="Invalid argument"):  # a file that cannot sync
        fsync_path(root / "a.txt")
