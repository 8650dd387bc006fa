"""Shard files are hashed as they are written: sealing reads none of them again, and the
manifest it builds equals a full re-hash of the store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ptyflow.dataset import create_dataset, open_dataset
from ptyflow.provenance import HASH_EXCLUDES, _hashing, build_manifest, tree_hash


def test_manifest_from_write_time_hashes_equals_a_full_rehash(
    tmp_path: Path, make_metadata, make_frames, monkeypatch: pytest.MonkeyPatch
) -> None:
    md = make_metadata(scan_shape=(8, 8))
    frames = make_frames((8, 8), (16, 16))
    store = tmp_path / "s.zarr"
    read_again: list[Path] = []
    hash_files = _hashing.hash_files

    def recording(paths: list[Path], **kwargs: object) -> list[str]:
        read_again.extend(paths)
        return hash_files(paths, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(_hashing, "hash_files", recording)
    with create_dataset(store, md, dtype=frames.dtype, shard_nav=(4, 4)) as writer:
        writer.write_frames(0, frames[:9])  # frame 9 comes late: its shard is written first
        writer.write_frames(10, frames[10:])  # ... with the gap, and the close flushes it
        writer.write_frame(9, frames[9])  # patched into the shard on disk, hashed again
    monkeypatch.undo()

    shard_files = {p for p in (store / "data" / "c").rglob("*") if p.is_file()}
    assert len(shard_files) == 4
    assert not shard_files & set(read_again)  # sealing re-read no shard
    assert read_again  # ... but did hash the small files (metadata, frames_received, live)
    ds = open_dataset(store)
    fresh = build_manifest(store, exclude=HASH_EXCLUDES)
    assert ds.manifest == fresh
    assert ds.provenance is None or ds.provenance["outputs"][0]["content_hash"] == tree_hash(fresh)
    assert ds.frames_received.all()
    np.testing.assert_array_equal(np.asarray(ds.data_array[...]).reshape(64, 16, 16), frames)


def test_a_known_hash_whose_size_changed_is_not_trusted(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"new bytes")
    stale = {"a": {"sha256": "0" * 64, "size_bytes": 3}}
    assert build_manifest(tmp_path, known=stale) == build_manifest(tmp_path)
