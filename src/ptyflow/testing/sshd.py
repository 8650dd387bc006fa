"""A private ``sshd`` on 127.0.0.1 for tests and benchmarks of the transfer.

Generated host and user keys in a temp dir, a free non-standard port, a ``known_hosts``
file pinning the host key, password logins off. :class:`PrivateSshd` can be stopped and
started again on the same port (a server going away mid-transfer). Nothing here needs pytest.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

__all__ = ["PrivateSshd", "descendants", "missing_services"]

_SSHD = "/usr/sbin/sshd"


def missing_services() -> list[str]:
    """The programs a real transfer test needs that are not installed here."""
    need = {"sshd": shutil.which("sshd") or (_SSHD if Path(_SSHD).exists() else None)}
    need |= {name: shutil.which(name) for name in ("ssh", "ssh-keygen", "rsync", "sha256sum")}
    return [name for name, path in need.items() if path is None]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (read from /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _keygen(path: Path) -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
        check=True,
        capture_output=True,
    )


class PrivateSshd:
    """An sshd serving the current user on ``127.0.0.1:port``, configured under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # sshd's privilege-separation dir
        self.user = getpass.getuser()
        self.port = _free_port()
        self.host_key = root / "host_ed25519"
        self.user_key = root / "user_ed25519"
        _keygen(self.host_key)
        _keygen(self.user_key)
        (root / "authorized_keys").write_text((root / "user_ed25519.pub").read_text())
        host_pub = (root / "host_ed25519.pub").read_text().split()
        self.known_hosts = root / "known_hosts"
        self.known_hosts.write_text(f"[127.0.0.1]:{self.port} {host_pub[0]} {host_pub[1]}\n")
        self.config = root / "sshd_config"
        self.config.write_text(
            f"ListenAddress 127.0.0.1\nPort {self.port}\nHostKey {self.host_key}\n"
            f"AuthorizedKeysFile {root / 'authorized_keys'}\nPasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n"
            f"StrictModes no\nUsePAM no\nPidFile {root / 'sshd.pid'}\n"
            "Subsystem sftp internal-sftp\nLogLevel ERROR\n"
        )
        self.log = root / "sshd.log"
        self._process: subprocess.Popen[bytes] | None = None

    def target(self, path: Path | str) -> str:
        """``user@127.0.0.1:/path`` for a destination on this server."""
        return f"{self.user}@127.0.0.1:{path}"

    def ssh_command(self) -> list[str]:
        """ssh with the pinned host key and the user key (for baselines and checks)."""
        return [
            "ssh",
            "-p",
            str(self.port),
            "-i",
            str(self.user_key),
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            f"UserKnownHostsFile={self.known_hosts}",
        ]

    def start(self, timeout_s: float = 10.0) -> None:
        """Start sshd and wait until it greets on its port."""
        sshd = shutil.which("sshd") or _SSHD
        self._process = subprocess.Popen(
            [sshd, "-D", "-f", str(self.config), "-E", str(self.log)], start_new_session=True
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"sshd exited: {self.log.read_text(errors='replace')}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1.0) as sock:
                    if sock.recv(8).startswith(b"SSH-"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"sshd did not come up on port {self.port}")

    def stop(self) -> None:
        """Stop sshd and every session it serves (the server goes away)."""
        if self._process is None:
            return
        # Each connection's sshd calls setsid(), so the process group is not enough: kill
        # the whole tree of processes below the listener, by pid.
        for pid in [self._process.pid, *descendants(self._process.pid)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self._process.wait()
        self._process = None

    def __enter__(self) -> PrivateSshd:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
