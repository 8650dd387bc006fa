"""Where stores go: a local directory, or a server reached by rsync over ssh.

Both backends share one protocol, so sending, verifying and recording are written once:
a backend only says how rsync reaches the destination and how a command runs there.
Every command is an argument list, never a shell line. (ssh itself hands the remote side
one string to its login shell, so each argument is quoted with :func:`shlex.quote`.)
"""

from __future__ import annotations

import ctypes
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from ptyflow.config.transfer import DestinationConfig
from ptyflow.errors import TransferError

__all__ = [
    "HOST_KEY_FAILURES",
    "Destination",
    "LocalDestination",
    "SshDestination",
    "failure_text",
    "make_destination",
    "run_command",
]

_PR_SET_PDEATHSIG = 1
#: Seconds an idle shared ssh connection stays open (a daemon killed with -9 leaves it).
_CONTROL_PERSIST_S = 60
#: Messages by which ssh says the server is not the one pinned: retrying will not help.
HOST_KEY_FAILURES = ("Host key verification failed", "REMOTE HOST IDENTIFICATION HAS CHANGED")


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    # A transfer daemon killed with -9 must not leave an rsync writing behind its back.
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def run_command(
    argv: Sequence[str], *, stdin: bytes = b"", timeout_s: float | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run ``argv`` (no shell), killed if this process dies; output captured."""
    try:
        return subprocess.run(
            list(argv),
            input=stdin,
            capture_output=True,
            timeout=timeout_s,
            check=False,
            preexec_fn=_die_with_parent if os.name == "posix" else None,
        )
    except FileNotFoundError:
        raise TransferError(f"{argv[0]!r} is not installed (needed for transfer)") from None
    except subprocess.TimeoutExpired:
        raise TransferError(f"{argv[0]} did not finish within {timeout_s} s") from None


def failure_text(proc: subprocess.CompletedProcess[bytes]) -> str:
    """The last lines of a failed command's stderr, for a reason a person can act on."""
    err = proc.stderr.decode(errors="replace").strip().splitlines()
    return f"exit {proc.returncode}: " + (" | ".join(err[-3:]) if err else "no message")


class Destination(Protocol):
    """How rsync reaches the destination root and how a command runs there."""

    #: The destination as people write it (``user@host:/path`` or a local path).
    label: str
    #: The absolute destination root on the destination's own file system.
    root: str

    def rsync_target(self, rel: str) -> str:
        """rsync's destination argument for ``rel`` below the root."""
        ...

    def rsync_options(self) -> list[str]:
        """Options that take rsync there (the ssh command, or nothing)."""
        ...

    def run(self, argv: Sequence[str], *, stdin: bytes = b"", timeout_s: float) -> bytes:
        """Run ``argv`` on the destination; its stdout, or :class:`TransferError`."""
        ...

    def close(self) -> None:
        """Release what the backend holds (a shared ssh connection)."""
        ...


class LocalDestination:
    """A directory on this machine (a mounted share, a second disk)."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.label = root

    def rsync_target(self, rel: str) -> str:
        return f"{self.root}/{rel}"

    def close(self) -> None:
        pass

    def rsync_options(self) -> list[str]:
        return []

    def run(self, argv: Sequence[str], *, stdin: bytes = b"", timeout_s: float) -> bytes:
        proc = run_command(argv, stdin=stdin, timeout_s=timeout_s)
        if proc.returncode != 0:
            raise TransferError(f"{argv[0]} at {self.label}: {failure_text(proc)}")
        return proc.stdout


class SshDestination:
    """A server reached over ssh with a pinned host key and a key file."""

    def __init__(self, config: DestinationConfig) -> None:
        self.user, self.host, self.root = config.ssh_parts()
        self.label = config.target
        assert config.known_hosts is not None  # the config model requires it for ssh
        # Host keys only from the pinned file: no prompt, no blind accepting, no other file.
        self._options = [
            "ssh",
            "-p",
            str(config.ssh_port),
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            f"UserKnownHostsFile={config.known_hosts}",
            "-o",
            "GlobalKnownHostsFile=/dev/null",
            "-o",
            f"ConnectTimeout={config.connect_timeout_s:g}",
            "-o",
            "ServerAliveInterval=5",
            "-o",
            "ServerAliveCountMax=3",
        ]
        if config.ssh_identity is not None:
            self._options += ["-o", "IdentitiesOnly=yes", "-i", str(config.ssh_identity)]
        if config.ssh_cipher:
            self._options += ["-c", config.ssh_cipher]
        self._control_dir: Path | None = None

    @property
    def ssh(self) -> list[str]:
        """The ssh command for commands, sharing one connection per destination.

        An ssh handshake costs about as much as sending 20 MB here, and every store needs
        several commands (hashing, listing, writing the record). The control socket lives
        in a private directory, so only connections made with these very options (this
        pinned host key) ever share it; :meth:`close` ends the shared connection.
        """
        if self._control_dir is None:
            self._control_dir = Path(tempfile.mkdtemp(prefix="ptyflow-ssh-"))
        return [
            *self._options,
            "-o",
            "ControlMaster=auto",
            "-o",
            f"ControlPath={self._control_dir}/%C",
            "-o",
            f"ControlPersist={_CONTROL_PERSIST_S}",
        ]

    def close(self) -> None:
        """End the shared connection (if any) and remove its control socket."""
        if self._control_dir is not None:
            run_command([*self.ssh, "-O", "exit", f"{self.user}@{self.host}"], timeout_s=10)
            shutil.rmtree(self._control_dir, ignore_errors=True)
            self._control_dir = None

    def rsync_target(self, rel: str) -> str:
        # rsync (>= 3.2.4, and --protect-args below) passes this path to the server as data,
        # not through the remote shell, so spaces and quotes stay what they are.
        return f"{self.user}@{self.host}:{self.root}/{rel}"

    def rsync_options(self) -> list[str]:
        # Bulk data gets a connection of its own: through the shared one every byte would
        # take an extra hop (client, then master process).
        # rsync splits -e itself (no shell), honouring quotes: quote each word once.
        return ["--protect-args", "-e", shlex.join([*self._options, "-o", "ControlPath=none"])]

    def run(self, argv: Sequence[str], *, stdin: bytes = b"", timeout_s: float) -> bytes:
        proc = run_command(
            [*self.ssh, f"{self.user}@{self.host}", shlex.join(argv)],
            stdin=stdin,
            timeout_s=timeout_s,
        )
        if proc.returncode != 0:
            raise TransferError(f"{argv[0]} on {self.label}: {failure_text(proc)}")
        return proc.stdout


def make_destination(config: DestinationConfig) -> Destination:
    if config.is_ssh:
        return SshDestination(config)
    return LocalDestination(str(Path(config.target)))
