"""The CLI end to end, as a user runs it: simulate → info → provenance, the demo, bad input."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from ptyflow.cli import main
from ptyflow.dataset import open_dataset
from ptyflow.provenance import read_record
from ptyflow.testing import TINY_SIMULATION

RunCli = Callable[..., subprocess.CompletedProcess[str]]

SMALL = TINY_SIMULATION


def _simulate_small(run_cli: RunCli, config: Path, store: Path) -> None:
    out = run_cli("simulate", config, "--out", store, "--no-progress", *SMALL)
    assert out.returncode == 0, out.stderr


def _no_traceback(out: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in out.stderr, out.stderr


def test_simulate_info_and_verify(
    run_cli: RunCli, tmp_path: Path, simulate_toml: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "small.zarr"
    _simulate_small(run_cli, simulate_toml, store)
    ds = open_dataset(store)
    assert ds.nav_shape == (6, 5) and ds.frame_shape == (64, 64)
    assert (tmp_path / "small.truth" / "object_phase.npy").exists()

    info = run_cli("info", store, "--verify", "--plot", tmp_path / "look.png")
    assert info.returncode == 0, info.stderr
    for text in ("complete", "(6, 5, 64, 64)", "300 keV", "every file matches the manifest"):
        assert text in info.stdout
    assert (tmp_path / "look.png").stat().st_size > 10_000
    # An output nowhere to go is refused before any work (nothing printed but the error).
    assert main(["info", str(store), "--plot", str(tmp_path / "no" / "look.png")]) == 2
    out, err = capsys.readouterr()
    assert out == "" and f"directory {tmp_path / 'no'} does not exist" in err

    assert run_cli("provenance", "verify", store).returncode == 0
    # A flipped byte in one shard is caught by both checks.
    shard = next(p for p in (store / "data").rglob("*") if p.is_file() and p.name != "zarr.json")
    raw = bytearray(shard.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    shard.write_bytes(bytes(raw))
    bad = run_cli("info", store, "--verify")
    assert bad.returncode == 1
    assert "data/" in bad.stderr and "checksum" in bad.stderr.lower()
    assert run_cli("provenance", "verify", store).returncode == 1


def test_existing_store_is_not_overwritten(
    run_cli: RunCli, tmp_path: Path, simulate_toml: Path
) -> None:
    store = tmp_path / "s.zarr"
    assert (
        run_cli("simulate", simulate_toml, "--out", store, "--no-progress", *SMALL).returncode == 0
    )
    before = np.asarray(open_dataset(store).data_array[:])
    again = run_cli("simulate", simulate_toml, "--out", store, "--no-progress", *SMALL)
    assert again.returncode == 2
    assert "exists" in again.stderr and "--overwrite" in again.stderr
    _no_traceback(again)
    np.testing.assert_array_equal(np.asarray(open_dataset(store).data_array[:]), before)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_demo_runs_and_says_where_things_are(run_cli: RunCli, tmp_path: Path) -> None:
    out = run_cli("demo", "--no-progress", timeout_s=900)  # it reconstructs: minutes when busy
    assert out.returncode == 0, out.stderr
    store = tmp_path / "ptyflow-demo" / "srtio3.zarr"
    assert str(store) in out.stdout.replace("\n", "")
    assert open_dataset(store).state.value == "complete"
    assert (tmp_path / "ptyflow-demo" / "srtio3_overview.png").exists()
    # It ends with a reconstruction of that store and its score against the ground truth.
    from ptyflow.reconstruct import open_result

    result = open_result(tmp_path / "ptyflow-demo" / "srtio3.result.zarr")
    assert result.metadata.dataset_content_hash == read_record(store).outputs[0].content_hash
    r = float(out.stdout.split("Pearson r")[1].split()[0])
    assert r > 0.9, out.stdout
    assert (tmp_path / "ptyflow-demo" / "srtio3_score.png").exists()


# -- bad input: a clear error naming the problem, exit code 2, never a traceback


def test_nonexistent_store(run_cli: RunCli, tmp_path: Path) -> None:
    out = run_cli("info", tmp_path / "nope.zarr")
    assert out.returncode == 2
    assert "nope.zarr" in out.stderr and "no" in out.stderr.lower()
    _no_traceback(out)


def test_corrupt_zarr_json(run_cli: RunCli, tmp_path: Path, simulate_toml: Path) -> None:
    store = tmp_path / "c.zarr"
    assert (
        run_cli("simulate", simulate_toml, "--out", store, "--no-progress", *SMALL).returncode == 0
    )
    (store / "zarr.json").write_text('{"zarr_format": 3, "node_type": "gro')
    out = run_cli("info", store)
    assert out.returncode == 2
    assert "zarr.json" in out.stderr and "JSON" in out.stderr
    _no_traceback(out)


def test_config_with_unknown_key(run_cli: RunCli, tmp_path: Path, simulate_toml: Path) -> None:
    config = tmp_path / "typo.toml"
    config.write_text(simulate_toml.read_text().replace("semiangle_mrad =", "semiangle_mard ="))
    out = run_cli("simulate", config, "--out", tmp_path / "t.zarr")
    assert out.returncode == 2
    assert str(config) in out.stderr
    assert "[beam].semiangle_mard: unknown key" in out.stderr
    assert "semiangle_mrad" in out.stderr
    assert not (tmp_path / "t.zarr").exists()
    _no_traceback(out)


def test_config_with_wrong_type(run_cli: RunCli, tmp_path: Path, simulate_toml: Path) -> None:
    out = run_cli(
        "simulate", simulate_toml, "--out", tmp_path / "t.zarr", "--set", 'scan.step_A="0.4 A"'
    )
    assert out.returncode == 2
    assert "[scan].step_A" in out.stderr
    _no_traceback(out)


def test_negative_dose(run_cli: RunCli, tmp_path: Path, simulate_toml: Path) -> None:
    out = run_cli(
        "simulate", simulate_toml, "--out", tmp_path / "t.zarr", "--set", "dose.dose_e_per_A2=-5"
    )
    assert out.returncode == 2
    assert "[dose].dose_e_per_A2" in out.stderr and "greater than 0" in out.stderr
    assert not (tmp_path / "t.zarr").exists()
    _no_traceback(out)


def test_dry_run_checks_and_describes_but_writes_nothing(
    run_cli: RunCli, tmp_path: Path, simulate_toml: Path
) -> None:
    out = run_cli("simulate", simulate_toml, "--out", tmp_path / "d.zarr", "--dry-run", *SMALL)
    assert out.returncode == 0, out.stderr
    assert "6×5 = 30 positions" in out.stdout
    assert "16000 per position" in out.stdout  # 1e5 e/Å² × 0.4 Å × 0.4 Å
    assert not (tmp_path / "d.zarr").exists() and not (tmp_path / "d.truth").exists()
    # The physics is checked too: a 0.5 mrad aperture is under 2 simulated k pixels.
    bad = run_cli(
        "simulate", simulate_toml, "--out", tmp_path / "d.zarr", "--dry-run",
        "--set", "beam.semiangle_mrad=0.5",
    )  # fmt: skip
    assert bad.returncode == 2 and "aperture spans only" in bad.stderr
    _no_traceback(bad)


def test_nan_and_inf_are_rejected_by_name(
    run_cli: RunCli, tmp_path: Path, simulate_toml: Path
) -> None:
    for key, value in (("beam.aberrations.C10_A", "nan"), ("beam.energy_eV", "inf")):
        out = run_cli(
            "simulate", simulate_toml, "--out", tmp_path / "n.zarr", "--set", f"{key}={value}"
        )
        assert out.returncode == 2, out.stderr
        section, name = key.rsplit(".", 1)
        assert f"[{section}].{name}: Input should be a finite number" in out.stderr
        _no_traceback(out)
    assert not (tmp_path / "n.zarr").exists()


def _corrupt_frames_received(store: Path) -> str:
    chunk = next(p for p in (store / "frames_received").rglob("*") if p.name != "zarr.json"
                 and p.is_file())  # fmt: skip
    chunk.write_bytes(b"\x00garbage" * 4)
    return "frames_received: cannot read"


def _list_as_record(store: Path) -> str:
    (store / "provenance.json").write_text("[]")
    return "INVALID (provenance.json"


def _recalibrated_axis(store: Path) -> str:
    meta_file = store / "data" / "zarr.json"
    meta = json.loads(meta_file.read_text())
    meta["attributes"]["ptyflow"]["axes"][2]["units"] = "mrad"
    meta_file.write_text(json.dumps(meta))
    return "disagree with the group metadata"


@pytest.mark.parametrize("damage", [_corrupt_frames_received, _list_as_record, _recalibrated_axis])
def test_damaged_store_is_named_not_a_traceback(
    run_cli: RunCli, tmp_path: Path, simulate_toml: Path, damage: Callable[[Path], str]
) -> None:
    store = tmp_path / "d.zarr"
    _simulate_small(run_cli, simulate_toml, store)
    expected = damage(store)
    out = run_cli("info", store)
    assert out.returncode in (1, 2)
    assert expected in out.stdout + out.stderr
    _no_traceback(out)
