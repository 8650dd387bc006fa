"""Transfer over a real sshd with real rsync: arrival, verification, record, status, security."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ptyflow.cli import main
from ptyflow.provenance import check_record, lineage, read_record, verify_chain
from ptyflow.testing.sshd import PrivateSshd
from ptyflow.transfer import RECORD_SUFFIX, State, Transfer

#: A hang guard: a transfer that never ends fails here instead of stalling the suite.
pytestmark = pytest.mark.timeout(60)


def test_store_with_awkward_name_arrives_verified_with_record_that_walks_back(
    tmp_path: Path,
    watch_dir: Path,
    store_name: str,
    sshd: PrivateSshd,
    make_config: Callable[..., Any],
    assert_identical: Callable[[Path, Path], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = tmp_path / "server root" / "in'coming ü"
    config, path = make_config(
        tmp_path,
        watch_dir,
        sshd.target(root),
        sshd,
        disk={"delete_after_verify": True},
        destination={"verify_with": "sha256sum"},  # the other tests use python3
    )
    source_record = read_record(watch_dir / store_name)
    expected_files = {
        p.relative_to(watch_dir / store_name): p.read_bytes()
        for p in (watch_dir / store_name).rglob("*")
        if p.is_file()
    }

    assert main(["transfer", "--config", str(path), "--exit-when-idle"]) == 0

    dest = root / store_name
    assert {p.relative_to(dest): p.read_bytes() for p in dest.rglob("*") if p.is_file()} == (
        expected_files
    )
    item = Transfer(config).queue.get(store_name)
    assert item is not None and item.state is State.VERIFIED
    assert item.tree_hash == source_record.outputs[0].content_hash
    # Verified, so the disk policy deleted the local copy: the server's lineage must not need it.
    assert not (watch_dir / store_name).exists() and item.local_deleted

    record_file = root / f"{store_name}{RECORD_SUFFIX}"
    record = read_record(record_file)
    assert record.activity == "transfer"
    assert record.outputs[0].content_hash == item.tree_hash
    assert record.inputs[0].record_id == source_record.record_id
    assert record.config is not None and record.config["destination"].endswith(store_name)
    assert str(watch_dir / store_name) in record.config["source"]
    steps = lineage(record_file)
    assert [s.record.activity for s in steps] == ["transfer", "acquire"]
    assert steps[1].record.record_id == source_record.record_id
    assert all(check.status == "matches" for check in steps[0].inputs)
    check_record(record_file, activity="transfer", inputs=[dest])
    assert verify_chain(record_file).ok  # the transfer, the store beside it, its acquisition

    capsys.readouterr()
    assert main(["transfer", "status", "--config", str(path)]) == 0
    out = " ".join(capsys.readouterr().out.split())  # rich wraps cells at the terminal width
    assert "1 verified, 0 failed" in out and store_name.split()[0] in out


def test_unpinned_host_key_is_refused_and_nothing_is_sent(
    tmp_path: Path,
    watch_dir: Path,
    store_name: str,
    sshd: PrivateSshd,
    make_config: Callable[..., Any],
) -> None:
    # The pinned key belongs to another server: ssh must refuse, never accept the new key.
    other = tmp_path / "other_host"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    line = sshd.known_hosts.read_text().split()
    sshd.known_hosts.write_text(f"{line[0]} {Path(f'{other}.pub').read_text().strip()}\n")
    root = tmp_path / "server"
    config, _ = make_config(tmp_path, watch_dir, sshd.target(root), sshd)

    with Transfer(config) as transfer:
        transfer.run(exit_when_idle=True)

    item = transfer.queue.get(store_name)
    assert item is not None and item.state is State.FAILED and item.attempts == 1
    assert item.reason is not None and "not the one pinned" in item.reason
    assert "Host key verification failed" in item.reason
    assert not root.exists()
    assert sshd.known_hosts.read_text().count("\n") == 1  # nothing was added to it


def test_manifest_name_escaping_the_store_is_refused_before_anything_moves(
    tmp_path: Path,
    watch_dir: Path,
    store_name: str,
    sshd: PrivateSshd,
    make_config: Callable[..., Any],
) -> None:
    store = watch_dir / store_name
    manifest = json.loads((store / "manifest.json").read_text())
    manifest["../../escaped.txt"] = {"sha256": "0" * 64, "size_bytes": 1}
    (store / "manifest.json").write_text(json.dumps(manifest))
    root = tmp_path / "server"
    config, _ = make_config(tmp_path, watch_dir, sshd.target(root), sshd)

    with Transfer(config) as transfer:
        transfer.run(exit_when_idle=True)

    item = transfer.queue.get(store_name)
    assert item is not None and item.state is State.FAILED
    assert item.reason is not None and "'../../escaped.txt'" in item.reason
    assert "escape the destination root" in item.reason
    assert not root.exists()
