"""The human summary for ``ptyflow info`` and the package's public surface."""

from __future__ import annotations

import io
import re

import numpy as np
from rich.console import Console

import ptyflow.dataset
from ptyflow.dataset import render_info


def _text(store, **kw) -> str:
    out = io.StringIO()
    Console(width=200, file=out).print(render_info(store, **kw))
    return out.getvalue()


def test_info_summarises_layout_state_metadata_and_provenance(
    tmp_path, make_metadata, make_frames, write_store
) -> None:
    from ptyflow.provenance import start_record

    md = make_metadata(scan_shape=(8, 8))
    frames = make_frames((8, 8), (16, 16))
    skip = (3, 10, 17, 24, 31, 38, 45)
    record = start_record("acquire", command=["ptyflow", "acquire"])
    store = write_store(tmp_path / "s.zarr", md, frames, skip=skip, record=record)
    text = _text(store)
    for expected in (
        "incomplete",
        "(8, 8, 16, 16) (scan_y, scan_x, ky, kx)",
        "uint16",
        "(4, 4) / (8, 8) scan positions",
        "cname=zstd",
        "shuffle=bitshuffle",
        "57 of 64",
        "7: (0, 3), (1, 2), (2, 1), (3, 0), (3, 7) …",
        "300 keV, semi-angle 20 mrad",
        "defocus 50 Å",
        "step 0.5×0.4 Å",
        "testdet #SN-1",
        "0.1 1/Å per px",
        "acquire",
        "sha256:",
    ):
        assert expected in text, expected
    assert re.search(r"verifies\s+yes", text)

    shard = next(p for p in (store / "data" / "c").rglob("*") if p.is_file())
    shard.write_bytes(shard.read_bytes()[:-1] + b"\x00")
    assert re.search(r"verifies\s+NO: files hash to sha256:", _text(store))
    assert "not checked" in _text(store, verify_checksums=False)
    assert np.isfinite(float(_text(store).split("compression ratio")[1].split("×")[0]))


def test_public_surface_is_exactly_this() -> None:
    assert set(ptyflow.dataset.__all__) == {
        "SCHEMA_ID",
        "SCHEMA_VERSION",
        "TRUTH_NAME",
        "Acquisition",
        "Compression",
        "Dataset",
        "DatasetMetadata",
        "DatasetState",
        "DatasetWriter",
        "Detector",
        "FrameGrid",
        "GroundTruth",
        "Recovery",
        "Scan",
        "check_truth_dir",
        "compare_stores",
        "create_dataset",
        "default_codec",
        "live_detectors",
        "open_dataset",
        "plot_overview",
        "read_truth",
        "recover_dataset",
        "render_info",
        "truth_path",
        "validate_dataset",
        "write_truth_dir",
        "writer_running",
    }
    for name in ptyflow.dataset.__all__:
        assert getattr(ptyflow.dataset, name) is not None
