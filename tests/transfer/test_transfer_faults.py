"""Faults during a transfer over a real sshd: each ends with nothing lost, trees identical.

A bandwidth cap (rsync --bwlimit) stretches the send of the test store over a few seconds,
so "mid-transfer" (the first shard arrived, the rest not yet) is reliably reached.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable
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


@pytest.fixture
def fault_setup(
    tmp_path: Path,
    watch_dir: Path,
    store_name: str,
    sshd: PrivateSshd,
    make_config: Callable[..., Any],
) -> tuple[Any, Path, Path, Path]:
    root = tmp_path / "server"
    config, path = make_config(tmp_path, watch_dir, sshd.target(root), sshd, rsync=_BWLIMIT)
    return config, path, watch_dir / store_name, root / store_name


def _mid_transfer(dest: Path) -> bool:
    """The first shard has arrived; three more are still to come."""
    return (dest / "data" / "c" / "0" / "0" / "0" / "0").is_file()


def _finish(proc: subprocess.Popen[bytes]) -> str:
    out, _ = proc.communicate(timeout=120)
    text = out.decode(errors="replace")
    assert proc.returncode == 0, text
    return text


def test_rsync_killed_mid_transfer_is_retried(
    fault_setup: tuple[Any, Path, Path, Path],
    start_daemon: Callable[..., subprocess.Popen[bytes]],
    wait_for: Callable[..., Any],
    queue_item: Callable[..., Any],
    assert_identical: Callable[[Path, Path], None],
) -> None:
    config, path, source, dest = fault_setup
    proc = start_daemon(path, "--exit-when-idle")
    wait_for(lambda: _mid_transfer(dest), "the first shard on the server")
    rsync = wait_for(lambda: _rsync_pids(proc.pid), "the daemon's rsync")
    for pid in rsync:
        os.kill(pid, signal.SIGKILL)

    _finish(proc)
    item = queue_item(config, source.name)
    assert item.state is State.VERIFIED and item.attempts >= 2
    assert_identical(source, dest)


def test_sshd_stopped_mid_transfer_then_restarted(
    fault_setup: tuple[Any, Path, Path, Path],
    sshd: PrivateSshd,
    start_daemon: Callable[..., subprocess.Popen[bytes]],
    wait_for: Callable[..., Any],
    queue_item: Callable[..., Any],
    assert_identical: Callable[[Path, Path], None],
) -> None:
    config, path, source, dest = fault_setup
    proc = start_daemon(path, "--exit-when-idle")
    wait_for(lambda: _mid_transfer(dest), "the first shard on the server")
    sshd.stop()
    failed = wait_for(
        lambda: (i := queue_item(config, source.name)) and i.attempts >= 1 and i, "a failed attempt"
    )
    assert failed.state is not State.VERIFIED and failed.reason
    sshd.start()

    _finish(proc)
    assert queue_item(config, source.name).state is State.VERIFIED
    assert_identical(source, dest)


def test_daemon_killed_with_sigkill_then_restarted(
    fault_setup: tuple[Any, Path, Path, Path],
    start_daemon: Callable[..., subprocess.Popen[bytes]],
    wait_for: Callable[..., Any],
    queue_item: Callable[..., Any],
    assert_identical: Callable[[Path, Path], None],
) -> None:
    config, path, source, dest = fault_setup
    proc = start_daemon(path)
    wait_for(lambda: _mid_transfer(dest), "the first shard on the server")
    rsync = wait_for(lambda: _rsync_pids(proc.pid), "the daemon's rsync")
    proc.kill()
    proc.wait()
    # The queue on disk still says what was going on, and no orphaned rsync writes on.
    assert queue_item(config, source.name).state is State.IN_FLIGHT
    wait_for(lambda: not any(_alive(pid) for pid in rsync), "the orphaned rsync to die")

    _finish(start_daemon(path, "--exit-when-idle"))
    assert queue_item(config, source.name).state is State.VERIFIED
    assert_identical(source, dest)


def test_destination_unreachable_for_a_while(
    fault_setup: tuple[Any, Path, Path, Path],
    sshd: PrivateSshd,
    start_daemon: Callable[..., subprocess.Popen[bytes]],
    wait_for: Callable[..., Any],
    queue_item: Callable[..., Any],
    assert_identical: Callable[[Path, Path], None],
) -> None:
    config, path, source, dest = fault_setup
    sshd.stop()
    proc = start_daemon(path, "--exit-when-idle")
    pending = wait_for(
        lambda: (i := queue_item(config, source.name)) and i.attempts >= 3 and i,
        "three failed attempts",
    )
    assert pending.state is State.PENDING and "Connection refused" in pending.reason
    sshd.start()

    _finish(proc)
    item = queue_item(config, source.name)
    assert item.state is State.VERIFIED and item.attempts >= 4
    assert_identical(source, dest)


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
