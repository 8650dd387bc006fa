"""Real processes for the acquire tests: the emulator and the daemon, over real sockets.

The emulator binds port 0 (a free port) or an ipc path in a temp dir and prints its
endpoint; the daemon connects there. Both are stopped by pid. Waits poll with generous
deadlines: they bound a hang, they do not time anything.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ptyflow import testing
from ptyflow.acquire import fetch_status

SRC = Path(__file__).resolve().parents[2] / "src"
DEADLINE_S = 60.0
NO_COMPRESSION = '[compress]\nkind = "none"'

CONFIG = """\
[receive]
endpoint = "{endpoint}"
protocol = "{protocol}"
batch_frames = 16
series_timeout_s = 30.0
[beam]
energy_eV = 300000.0
semiangle_mrad = 21.4
[scan]
step_A = [0.4, 0.4]
{scan}
[detector]
pixel_size_inv_A = 0.02
{compress}
[output]
directory = "{out}"
shard_nav = [4, 4]
chunk_nav = [2, 2]
[status]
progress = "off"
log_interval_s = 3600.0
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(SRC), "OMP_NUM_THREADS": "1"}


def ptyflow(*args: str | Path) -> subprocess.Popen[str]:
    return testing.start_cli(*args, env=_env())


def wait_for(predicate: Callable[[], Any], what: str) -> Any:
    return testing.wait_until(predicate, what, timeout_s=DEADLINE_S)


class Emulator:
    def __init__(self, *args: str | Path) -> None:
        self.proc = ptyflow("emulate", *args)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.startswith("endpoint: "), line + (
            self.proc.stderr.read() if self.proc.stderr else ""
        )
        self.endpoint = line.split(" ", 1)[1].strip()

    def finish(self) -> dict[str, Any]:
        out, err = self.proc.communicate(timeout=DEADLINE_S)
        assert self.proc.returncode == 0, err
        return dict(json.loads(out.strip().splitlines()[-1]))


class Daemon:
    def __init__(
        self,
        tmp: Path,
        endpoint: str,
        protocol: str = "v1",
        scan: str = "",
        compress: str = NO_COMPRESSION,
    ) -> None:
        self.out = tmp / "out"
        self.config = tmp / f"acquire-{protocol}.toml"
        self.config.write_text(
            CONFIG.format(
                endpoint=endpoint, protocol=protocol, scan=scan, out=self.out, compress=compress
            )
        )
        self.proc = ptyflow("acquire", "--config", self.config)
        self.log = ""

    def status(self) -> dict[str, Any]:
        return wait_for(lambda: _try_status(self.out), "the daemon's status endpoint")

    def wait_received(self, n: int) -> None:
        wait_for(lambda: self.status()["frames_received"] >= n, f"{n} frames received")

    def wait_closed(self, n_series: int) -> dict[str, Any]:
        return wait_for(
            lambda: (s := self.status())["series_closed"] >= n_series and s, "series closed"
        )

    def stop(self, sig: int = signal.SIGTERM) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        out, err = self.proc.communicate(timeout=DEADLINE_S)
        self.log = out + err
        return self.log


def _try_status(out: Path) -> dict[str, Any] | None:
    try:
        return fetch_status(out)
    except Exception:
        return None


@pytest.fixture
def run_pair(
    tmp_path: Path, processes: list[subprocess.Popen[Any]]
) -> Callable[..., tuple[Emulator, Daemon]]:
    """Start an emulator with ``emu_args`` and a daemon connected to it."""

    def start(
        *emu_args: str,
        protocol: str = "v1",
        scan: str = "",
        endpoint: str = "tcp://127.0.0.1:0",
        compress: str = NO_COMPRESSION,
    ) -> tuple[Emulator, Daemon]:
        emu = Emulator("--endpoint", endpoint, "--protocol", protocol, *emu_args)
        processes.append(emu.proc)
        daemon = Daemon(tmp_path, emu.endpoint, protocol, scan, compress)
        processes.append(daemon.proc)
        return emu, daemon

    return start


@pytest.fixture
def run_cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``ptyflow ARGS`` to completion in ``tmp_path``."""

    def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
        return testing.run_cli(*args, cwd=tmp_path, timeout_s=DEADLINE_S, env=_env())

    return run
