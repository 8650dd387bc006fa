"""Fixtures for the transfer tests: a real sshd and rsync, a small sealed store, configs.

The tests need ``sshd``, ``ssh``, ``rsync`` and ``sha256sum``. Without them they skip
saying what is missing, except with ``PTYFLOW_REQUIRE_SERVICES=1`` (set by ``.ci/run``),
where a missing service fails the tests: CI must never skip them silently.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ptyflow.config import validate_config
from ptyflow.config.transfer import TransferConfig
from ptyflow.provenance import build_manifest, start_record
from ptyflow.testing import make_metadata, wait_until, write_store
from ptyflow.testing.sshd import PrivateSshd, missing_services
from ptyflow.transfer import Queue, QueueItem

#: A name with spaces, quotes and non-ASCII letters: it must arrive as it is.
AWKWARD_NAME = "scan 07 'Ba' \"x\" ü µ.zarr"


@pytest.fixture(scope="session")
def services() -> None:
    missing = missing_services()
    if missing:
        why = f"transfer tests need {', '.join(missing)} (apt-get install openssh-server rsync)"
        if os.environ.get("PTYFLOW_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{why}; PTYFLOW_REQUIRE_SERVICES=1 forbids skipping them")
        pytest.skip(why)


@pytest.fixture
def sshd(services: None, tmp_path: Path) -> Iterator[PrivateSshd]:
    server = PrivateSshd(tmp_path / "sshd")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sealed_store(services: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small sealed store (4 shards of ~400 kB of noise) with its provenance record."""
    out = tmp_path_factory.mktemp("acquired") / "scan.zarr"
    metadata = make_metadata((32, 32), (24, 24), bit_depth=16)
    frames = np.random.default_rng(0).integers(0, 2**16, (32 * 32, 24, 24), dtype=np.uint16)
    write_store(out, metadata, frames, record=start_record("acquire", command=["pytest"]))
    return out


@pytest.fixture
def watch_dir(tmp_path: Path, sealed_store: Path) -> Path:
    """An acquisition output directory holding one sealed store named :data:`AWKWARD_NAME`."""
    acq = tmp_path / "acquisition out"
    acq.mkdir()
    shutil.copytree(sealed_store, acq / AWKWARD_NAME)
    return acq


def _make_config(
    tmp_path: Path, watch: Path, target: str, sshd: PrivateSshd | None = None, **sections: Any
) -> tuple[TransferConfig, Path]:
    """A fast-polling config (model and TOML file) sending ``watch`` to ``target``."""
    data: dict[str, Any] = {
        "source": {"watch_dir": str(watch), "poll_interval_s": 0.1},
        "destination": {"target": target},
        "retry": {"backoff_initial_s": 0.2, "backoff_max_s": 1.0, "max_attempts": 50},
    }
    if sshd is not None:
        data["destination"] |= {
            "ssh_port": sshd.port,
            "ssh_identity": str(sshd.user_key),
            "known_hosts": str(sshd.known_hosts),
        }
    for section, values in sections.items():
        data[section] = data.get(section, {}) | values
    path = tmp_path / "transfer.toml"
    path.write_text(_toml(data))
    return validate_config(data, TransferConfig, str(path)), path


def _toml(data: dict[str, Any]) -> str:
    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return repr(v)

    return "".join(
        f"[{name}]\n" + "".join(f"{k} = {value(v)}\n" for k, v in section.items())
        for name, section in data.items()
    )


def _daemon(config_path: Path, *extra: str) -> subprocess.Popen[bytes]:
    """``ptyflow transfer --config ...`` as a real process (killable with -9)."""
    return subprocess.Popen(
        [sys.executable, "-m", "ptyflow", "transfer", "--config", str(config_path), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _wait_for(condition: Callable[[], Any], what: str, timeout_s: float = 60.0) -> Any:
    return wait_until(condition, what, timeout_s, poll_s=0.02)


def _queue_item(config: TransferConfig, name: str) -> QueueItem | None:
    if not config.queue_db.exists():
        return None
    return Queue(config.queue_db).get(name)


def _assert_identical(source: Path, dest: Path) -> None:
    """Every file of the store arrived, byte for byte, and nothing else (no partial files)."""
    assert build_manifest(dest) == build_manifest(source)


@pytest.fixture
def make_config() -> Callable[..., tuple[TransferConfig, Path]]:
    return _make_config


@pytest.fixture
def start_daemon(
    processes: list[subprocess.Popen[Any]],
) -> Callable[..., subprocess.Popen[bytes]]:
    """Start daemons; any still running at the end of the test is killed (by pid)."""

    def start(config_path: Path, *extra: str) -> subprocess.Popen[bytes]:
        proc = _daemon(config_path, *extra)
        processes.append(proc)
        return proc

    return start


@pytest.fixture
def wait_for() -> Callable[..., Any]:
    return _wait_for


@pytest.fixture
def queue_item() -> Callable[[TransferConfig, str], QueueItem | None]:
    return _queue_item


@pytest.fixture
def assert_identical() -> Callable[[Path, Path], None]:
    return _assert_identical


@pytest.fixture
def store_name() -> str:
    """The name of the store in :func:`watch_dir`."""
    return AWKWARD_NAME
