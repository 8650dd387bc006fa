"""A full disk at any moment of ``ptyflow simulate`` ends in one clear error and a store that
is ``failed`` with its received frames readable (or complete), never a traceback or a store
left ``acquiring``. The output lies on a small tmpfs whose size sweeps the fill level."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ptyflow.cli import main
from ptyflow.dataset import DatasetState, open_dataset, validate_dataset
from ptyflow.provenance import verify_artifact
from ptyflow.simulate._budget import Budget
from ptyflow.testing import TINY_SIMULATION

TINY = ["--no-progress", *TINY_SIMULATION]


def _used_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def test_every_fill_level_ends_cleanly(
    tmp_path: Path,
    simulate_toml: Path,
    capsys,
    monkeypatch: pytest.MonkeyPatch,
    tmpfs: Callable[[Path, int], Any],
) -> None:
    # The up-front disk check (uncompressed size) would refuse most of these disks; here the
    # disk fills up anyway, as when another process writes to it after the check.
    check = Budget.check
    monkeypatch.setattr(Budget, "check", lambda self, out_path: check(self, None))
    with tmpfs(tmp_path / "roomy", 64 << 20) as roomy:
        assert main(["simulate", str(simulate_toml), "--out", str(roomy / "s.zarr"), *TINY]) == 0
        needed = _used_bytes(roomy)
    capsys.readouterr()
    outcomes = set()
    errors: list[str] = []
    # From too small to create the store, through full while writing the ground truth, to
    # enough (tests/dataset/test_dataset_disk_full.py sweeps the store itself finely).
    for i, size in enumerate([needed // 16, needed // 4, needed // 2, 3 * needed // 4, 2 * needed]):
        with tmpfs(tmp_path / f"fs{i}", size) as disk:
            store = disk / "s.zarr"
            code = main(["simulate", str(simulate_toml), "--out", str(store), *TINY])
            err = capsys.readouterr().err
            errors.append(err)
            where = f"tmpfs of {size} bytes: exit {code}\n{err}"
            assert code in (0, 2), where
            assert "Traceback" not in err, where
            assert err.count("error:") == (code == 2), where
            assert {p.name for p in disk.iterdir()} <= {"s.zarr", "s.truth"}, where
            if code == 0:
                outcomes.add("complete")
                assert validate_dataset(store, verify_checksums=True) == [], where
                assert verify_artifact(disk / "s.truth").ok, where
                continue
            if not store.exists():
                outcomes.add("not created")
                assert "cannot create" in err, where
                continue
            ds = open_dataset(store)
            outcomes.add(ds.state.value)

            assert ds.state in (DatasetState.FAILED, DatasetState.COMPLETE), where
            frames = list(ds.iter_frames())
            assert len(frames) == int(ds.frames_received.sum()), where
            problems = validate_dataset(store, verify_checksums=True)
            assert all("acquisition ended with an error" in p for p in problems), where
    assert {"not created", "complete"} <= outcomes  # the sweep spans the whole range
    assert "truth" in " ".join(errors)  # and a disk that fills while writing the truth
