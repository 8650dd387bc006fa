"""Damaged shards are named, never read as data: per-chunk CRC-32C and missing shard files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ptyflow.cli import main
from ptyflow.dataset import open_dataset, validate_dataset
from ptyflow.errors import DatasetError


@pytest.fixture
def store(tmp_path, make_metadata, make_frames, write_store) -> Path:
    """8×8 scan in four 4×4 shards of 2×2 chunks."""
    md = make_metadata(scan_shape=(8, 8))
    frames = make_frames((8, 8), (16, 16))
    return write_store(tmp_path / "s.zarr", md, frames, shard_nav=(4, 4), chunk_nav=(2, 2))


def _flip(path: Path, offset: int) -> None:
    raw = bytearray(path.read_bytes())
    raw[offset] ^= 0x01
    path.write_bytes(bytes(raw))


def test_every_chunk_carries_a_crc32c(store) -> None:
    codecs = [c.to_dict()["name"] for c in open_dataset(store).data_array.compressors]
    assert codecs[-1] == "crc32c"


@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 0.999])
def test_any_flipped_byte_in_a_shard_fails_to_read(store, fraction) -> None:
    """One bit anywhere in a shard file (chunks or index) makes reading it fail."""
    ds = open_dataset(store)
    shard = ds.shard_file((1, 0))
    _flip(shard, int(fraction * (shard.stat().st_size - 1)))
    with pytest.raises(DatasetError, match=r"damaged|cannot read") as err:
        list(ds.iter_frames())
    assert str(shard) in str(err.value)
    assert ds.read_frame((1, 5)).shape == (16, 16)  # the other shards still read


def test_flipped_byte_names_shard_chunk_and_scan_positions(store) -> None:
    ds = open_dataset(store)
    shard = ds.shard_file((0, 1))
    _flip(shard, 20)  # inside the shard's first chunk
    with pytest.raises(DatasetError) as err:
        ds.read_frame((0, 4))
    message = str(err.value)
    assert f"{store / 'data' / 'c' / '0' / '1' / '0' / '0'}: chunk (0, 0)" in message
    assert "scan positions 0:2, 4:6" in message


def test_missing_shard_file_is_named_not_read_as_zeros(store, capsys) -> None:
    ds = open_dataset(store)
    shard = ds.shard_file((1, 1))
    shard.unlink()
    with pytest.raises(DatasetError, match="shard file missing") as err:
        list(ds.iter_frames())
    assert str(shard) in str(err.value)
    with pytest.raises(DatasetError, match="shard file missing"):
        ds.read_frame((7, 7))
    assert ds.read_frame((0, 0)).any()  # intact shards still read
    problems = validate_dataset(store)  # without rehashing
    assert problems == [f"{shard}: shard file missing, but its frames are marked received"]
    assert main(["info", str(store)]) == 1
    out, err = capsys.readouterr()
    assert "valid:" not in out and "shard file missing" in err


def test_all_zero_frames_keep_their_shard_files(tmp_path, make_metadata, write_store) -> None:
    """Shards equal to the fill value are still written, so zeros are not mistaken for loss."""
    md = make_metadata(scan_shape=(4, 4))
    store = write_store(tmp_path / "z.zarr", md, np.zeros((16, 16, 16), np.uint16))
    ds = open_dataset(store)
    assert validate_dataset(store) == []
    assert sum(1 for _ in ds.iter_frames()) == 16
    assert not ds.read_frame(3).any()
