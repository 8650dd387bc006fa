"""The CLI as a user meets it: help texts, exit codes, provenance commands."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from ptyflow import provenance as prov

RunCli = Callable[..., subprocess.CompletedProcess[str]]

COMMANDS = ["simulate", "info", "provenance", "demo"]


def test_top_level_help_lists_every_command(run_cli: RunCli) -> None:
    out = run_cli("--help")
    assert out.returncode == 0
    for command in COMMANDS:
        assert command in out.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_explains_itself(run_cli: RunCli, command: str) -> None:
    out = run_cli(command, "--help")
    assert out.returncode == 0, out.stderr
    assert f"usage: ptyflow {command}" in out.stdout
    assert len(out.stdout.splitlines()) > 5


def test_missing_arguments_are_usage_errors(run_cli: RunCli) -> None:
    out = run_cli("simulate")
    assert out.returncode == 2
    assert "the following arguments are required" in out.stderr


def test_provenance_show_and_verify(run_cli: RunCli, tmp_path: Path) -> None:
    artifact = tmp_path / "result"
    artifact.mkdir()
    (artifact / "phase.bin").write_bytes(b"phase")
    record = prov.finish_record(prov.start_record("test"), [prov.artifact_ref(artifact)])
    prov.write_record(record, prov.record_path(artifact))

    shown = run_cli("provenance", "show", artifact, "--json")
    assert shown.returncode == 0
    assert json.loads(shown.stdout)["lineage"][0]["record"]["record_id"] == record.record_id

    ok = run_cli("provenance", "verify", artifact)
    assert ok.returncode == 0 and "verified" in ok.stdout

    (artifact / "phase.bin").write_bytes(b"PHASE")
    bad = run_cli("provenance", "verify", artifact)
    assert bad.returncode == 1 and "FAILED" in bad.stdout and "content hash" in bad.stdout


def test_provenance_of_unrecorded_artifact_is_a_clear_error(
    run_cli: RunCli, tmp_path: Path
) -> None:
    out = run_cli("provenance", "verify", tmp_path)
    assert out.returncode == 2
    assert "no provenance record" in out.stderr
    assert "Traceback" not in out.stderr
