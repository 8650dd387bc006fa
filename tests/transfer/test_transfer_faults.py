"""Faults during a transfer over a real sshd: each ends with nothing lost, trees identical.

A bandwidth cap (rsync --bwlimit) stretches the send of the test store over a few seconds,
so "mid-transfer" (the first shard arrived, the rest not yet) is reliably reached.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ptyflow.cli import main
from ptyflow.testing.sshd import PrivateSshd, descendants
from ptyflow.transfer import State, Transfer

pytestmark = [pytest.mark.slow, pytest.mark.timeout(90)]

#: ~2 s for the ~1.2 MB test store: long enough to interrupt, short enough for the suite.
_BWLIMIT = {"bandwidth_limit_KiB_per_s": 600}


def _rsync_pids(daemon_pid: int) -> list[int]:
    return [
        pid
        for pid in descendants(daemon_pid)
        if Path(f"/proc/{pid}/comm").read_text(errors="replace").strip() == "rsync"
    ]


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


@dataclass
class _Fault:
    """A capped transfer to a real sshd (so it can be interrupted), and the tools to watch it."""

    config: Any
    path: Path
    source: Path
    dest: Path
    start_daemon: Callable[..., subprocess.Popen[bytes]]
    wait_for: Callable[..., Any]
    queue_item: Callable[..., Any]
    assert_identical: Callable[[Path, Path], None]

    def item(self) -> Any:
        return self.queue_item(self.config, self.source.name)

    def wait_mid_transfer(self) -> None:
        """Until the first shard has arrived; three more are still to come."""
        shard = self.dest / "data" / "c" / "0" / "0" / "0" / "0"
        self.wait_for(shard.is_file, "the first shard on the server")

    def wait_attempts(self, n: int, what: str) -> Any:
        return self.wait_for(lambda: (i := self.item()) and i.attempts >= n and i, what)

    def finish_verified(self, proc: subprocess.Popen[bytes]) -> Any:
        """Wait for the daemon to exit 0; the store must be verified and identical."""
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0, out.decode(errors="replace")
        item = self.item()
        assert item.state is State.VERIFIED
        self.assert_identical(self.source, self.dest)
        return item


@pytest.fixture
def fault(
    tmp_path: Path,
    watch_dir: Path,
    store_name: str,
    sshd: PrivateSshd,
    make_config: Callable[..., Any],
    start_daemon: Callable[..., subprocess.Popen[bytes]],
    wait_for: Callable[..., Any],
    queue_item: Callable[..., Any],
    assert_identical: Callable[[Path, Path], None],
) -> _Fault:
    root = tmp_path / "server"
    config, path = make_config(tmp_path, watch_dir, sshd.target(root), sshd, rsync=_BWLIMIT)
    return _Fault(
        config,
        path,
        watch_dir / store_name,
        root / store_name,
        start_daemon,
        wait_for,
        queue_item,
        assert_identical,
    )


def test_rsync_killed_mid_transfer_is_retried(fault: _Fault) -> None:
    proc = fault.start_daemon(fault.path, "--exit-when-idle")
    fault.wait_mid_transfer()
    rsync = fault.wait_for(lambda: _rsync_pids(proc.pid), "the daemon's rsync")
    for pid in rsync:
        os.kill(pid, signal.SIGKILL)

    assert fault.finish_verified(proc).attempts >= 2


def test_sshd_stopped_mid_transfer_then_restarted(fault: _Fault, sshd: PrivateSshd) -> None:
    proc = fault.start_daemon(fault.path, "--exit-when-idle")
    fault.wait_mid_transfer()
    sshd.stop()
    failed = fault.wait_attempts(1, "a failed attempt")
    assert failed.state is not State.VERIFIED and failed.reason
    sshd.start()

    fault.finish_verified(proc)


def test_daemon_killed_with_sigkill_then_restarted(fault: _Fault) -> None:
    proc = fault.start_daemon(fault.path)
    fault.wait_mid_transfer()
    rsync = fault.wait_for(lambda: _rsync_pids(proc.pid), "the daemon's rsync")
    proc.kill()
    proc.wait()
    # The queue on disk still says what was going on, and no orphaned rsync writes on.
    assert fault.item().state is State.IN_FLIGHT
    fault.wait_for(lambda: not any(_alive(pid) for pid in rsync), "the orphaned rsync to die")

    fault.finish_verified(fault.start_daemon(fault.path, "--exit-when-idle"))


def test_destination_unreachable_for_a_while(fault: _Fault, sshd: PrivateSshd) -> None:
    sshd.stop()
    proc = fault.start_daemon(fault.path, "--exit-when-idle")
    pending = fault.wait_attempts(3, "three failed attempts")
    assert pending.state is State.PENDING and "Connection refused" in pending.reason
    sshd.start()

    assert fault.finish_verified(proc).attempts >= 4


def test_destination_file_damaged_keeping_size_and_mtime_is_found_and_repaired(
    tmp_path: Path,
    watch_dir: Path,
    store_name: str,
    sshd: PrivateSshd,
    make_config: Callable[..., Any],
    assert_identical: Callable[[Path, Path], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    root = tmp_path / "server"
    config, path = make_config(tmp_path, watch_dir, sshd.target(root), sshd)
    with Transfer(config) as transfer:
        transfer.run(exit_when_idle=True)
    source, dest = watch_dir / store_name, root / store_name
    shard = dest / "data" / "c" / "1" / "0" / "0" / "0"
    before = shard.stat()
    damaged = bytearray(shard.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    shard.write_bytes(bytes(damaged))
    os.utime(shard, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert shard.stat().st_size == before.st_size
    # rsync's own quick check (size and mtime) does not see it: a plain re-run sends nothing.
    dry = subprocess.run(
        ["rsync", "-ain", "-e", " ".join(sshd.ssh_command()), f"{source}/", sshd.target(dest)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "data/c/1/0/0/0" not in dry.stdout

    assert main(["transfer", "verify", "--config", str(path), "--store", store_name]) == 0
    assert "repaired data/c/1/0/0/0" in caplog.text

    assert_identical(source, dest)
    item = Transfer(config).queue.get(store_name)
    assert item is not None and item.state is State.VERIFIED
