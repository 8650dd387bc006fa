"""Outputs the system refuses and inputs that cannot be: one message each, never a traceback.

Most cases run ``ptyflow.cli.main`` in this process (fast); the closed pipe needs a real one.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from ptyflow.cli import main
from ptyflow.provenance import content_hash, read_record, start_record
from ptyflow.testing import make_metadata, poisson_frames, write_store

SMALL = [
    "--set", "specimen.repeats=[4, 4, 2]",
    "--set", "specimen.defects=[]",
    "--set", "scan.shape=[3, 3]",
    "--set", "scan.center_A=[7.8, 7.8]",
    "--set", "numerics.oversampling=1",
    "--set", "detector.shape=[32, 32]",
    "--no-progress",
]  # fmt: skip


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory nothing can be created in: a read-only one, or /sys for root (which
    ignores permissions)."""
    if os.geteuid() == 0:
        if not Path("/sys").is_dir():
            pytest.skip("running as root without /sys: no directory is read-only")
        yield Path("/sys")
        return
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    yield locked
    locked.chmod(0o755)


def _run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str]:
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return code, out.out + out.err


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A small sealed store with a provenance record, made without the simulator."""
    frames = poisson_frames((4, 4), (16, 16))
    record = start_record("pytest")
    return write_store(tmp_path / "s.zarr", make_metadata((4, 4)), frames, record=record)


@pytest.mark.parametrize(
    ("out", "message"),
    [
        (".", "not a name for a new store"),
        ("/", "not a name for a new store"),
        ("sub/..", "not a name for a new store"),
        ("s.truth", "ends in .truth, the suffix of ground-truth directories"),
    ],
)
def test_out_that_cannot_name_a_store(
    capsys, tmp_path, monkeypatch, simulate_toml, out, message
) -> None:
    monkeypatch.chdir(tmp_path)
    for extra in ([], ["--dry-run"]):
        code, text = _run(capsys, "simulate", simulate_toml, "--out", out, *SMALL, *extra)
        assert code == 2 and message in text
    assert sorted(os.listdir(tmp_path)) == []


def test_dry_run_refuses_a_huge_scan_with_the_numbers(capsys, tmp_path, simulate_toml) -> None:
    code, text = _run(
        capsys, "simulate", simulate_toml, "--out", tmp_path / "h.zarr", "--dry-run",
        *SMALL, "--set", "scan.shape=[100000, 100000]",
    )  # fmt: skip
    assert code == 2 and "GB of memory, more than the" in text and "scan.shape" in text


def test_read_only_out(capsys, read_only_dir, simulate_toml) -> None:
    store = read_only_dir / "ptyflow-test.zarr"
    code, text = _run(capsys, "simulate", simulate_toml, "--out", store, *SMALL)
    assert code == 2 and str(read_only_dir) in text
    # /sys also reports no free space: then the up-front disk check speaks first
    assert re.search("Permission denied|Operation not permitted|more than the 0 GB free", text)
    assert not store.exists()


def test_demo_in_a_read_only_directory(capsys, read_only_dir, monkeypatch) -> None:
    monkeypatch.chdir(read_only_dir)
    code, text = _run(capsys, "demo", "--no-progress")
    assert code == 2 and "ptyflow-demo: " in text
    assert "Permission denied" in text or "Operation not permitted" in text


def test_demo_where_its_folder_is_a_file(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ptyflow-demo").write_text("mine")
    code, text = _run(capsys, "demo", "--no-progress")
    assert code == 2 and "ptyflow-demo: exists and is not a directory" in text
    assert (tmp_path / "ptyflow-demo").read_text() == "mine"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("missing/look.png", "directory .*missing does not exist"),
        ("look.xyz", r"cannot save a figure as '\.xyz'; use one of .*\.png"),
        ("look", "cannot save a figure as 'a file without an extension'"),
    ],
)
def test_info_plot_to_a_path_it_cannot_write(capsys, tmp_path, store, name, message) -> None:
    code, text = _run(capsys, "info", store, "--plot", tmp_path / name)
    assert code == 2
    assert re.search(message, text), text


def test_info_plot_on_a_damaged_live_image(capsys, tmp_path, store) -> None:
    chunk = next(
        p for p in (store / "live" / "adf").rglob("*") if p.is_file() and p.name != "zarr.json"
    )
    chunk.write_bytes(b"\x00garbage" * 4)
    code, text = _run(capsys, "info", store, "--plot", tmp_path / "look.png")
    assert code == 2 and "live/adf: cannot read" in text


def test_provenance_verify_names_changed_and_missing_files(capsys, store) -> None:
    shutil.rmtree(store / "live" / "bf")
    (store / "frames_received" / "zarr.json").write_text("{}")
    code, text = _run(capsys, "provenance", "verify", store)
    assert code == 1 and "FAILED" in text
    assert f"{store / 'live' / 'bf' / 'zarr.json'}: missing" in text
    assert f"{store / 'frames_received' / 'zarr.json'}: checksum differs" in text


def test_provenance_export_into_a_missing_directory(capsys, tmp_path, store) -> None:
    target = tmp_path / "no" / "such" / "dir" / "x.provn"
    code, text = _run(capsys, "provenance", "export", store, "--format", "prov-n", "--out", target)
    assert code == 2 and f"{target}: No such file or directory" in text


def test_output_into_a_pipe_closed_early(store: Path) -> None:
    """`ptyflow provenance export STORE | head -c 0`: stop quietly, no traceback."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first byte: every write fails
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "ptyflow", "provenance", "export", store],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert proc.returncode == 141, proc.stderr
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr


def test_phase_image_is_recorded_as_an_input(capsys, tmp_path, simulate_toml) -> None:
    np.save(tmp_path / "phase.npy", np.zeros((40, 40)))
    config = tmp_path / "phase.toml"
    config.write_text(
        simulate_toml.read_text().split("[specimen]")[0]
        + '[specimen]\nkind = "phase_image"\npath = "phase.npy"\npixel_size_A = 0.2\n'
    )
    code, text = _run(
        capsys, "simulate", config, "--out", tmp_path / "p.zarr", "--no-progress",
        "--set", "scan.shape=[2, 2]", "--set", "numerics.oversampling=1",
        "--set", "detector.shape=[32, 32]",
    )  # fmt: skip
    assert code == 0, text
    for artifact in (tmp_path / "p.zarr", tmp_path / "p.truth"):
        inputs = read_record(artifact).inputs
        image = [i for i in inputs if Path(i.path).name == "phase.npy"]
        assert image and image[0].content_hash == content_hash(tmp_path / "phase.npy")
