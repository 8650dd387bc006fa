"""One writer per output path: an advisory ``fcntl`` lock on a file beside it.

The lock file ``.NAME.lock`` sits beside the store (never inside it, where it would be
hashed into the manifest). The holder deletes it when done, while still holding it; a
process that locked the deleted file meanwhile notices (the path no longer leads to the
file it locked) and tries again. The kernel drops the lock when its holder exits, even
when killed, so a crash leaves at most an unlocked file behind, never a stale lock. The
holder writes who it is into the file, so a second writer's error can name it.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path

from ptyflow.errors import DatasetError

__all__ = ["OutputLock", "lock_path", "writer_running"]


def lock_path(target: Path) -> Path:
    """The lock file of ``target``: ``.NAME.lock`` beside it."""
    return target.with_name(f".{target.name}.lock")


def writer_running(target: Path) -> bool:
    """Whether a process holds the lock of ``target`` now (a store ``acquiring`` without
    one is a crashed acquisition, for ``ptyflow recover``)."""
    try:
        fd = os.open(lock_path(target), os.O_RDONLY)
    except OSError:
        return False  # no lock file: every writer creates it before the store
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)  # refused while a writer holds it
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # drops our shared lock at once
    return False


class OutputLock:
    """An exclusive lock on an output path, held until :meth:`release` (or process exit)."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.path = lock_path(target)
        self._fd: int | None = None

    @classmethod
    def acquire(cls, target: Path) -> OutputLock:
        """Take the lock; DatasetError naming the holder if another process has it."""
        lock = cls(target)
        while lock._fd is None:
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(lock.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as err:
                raise DatasetError(
                    f"{target}: cannot create the lock file {lock.path}: {err}"
                ) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_holder(fd)
                os.close(fd)
                raise DatasetError(
                    f"{target}: another ptyflow process is writing it ({holder}); wait for it "
                    f"to finish or stop it (lock file {lock.path})"
                ) from None
            if _same_file(fd, lock.path):
                lock._fd = fd
            else:  # the holder deleted it as we opened it: lock the current one instead
                os.close(fd)
        _write_holder(lock._fd)
        return lock

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        """Delete the lock file and let go of the lock; releasing twice does nothing."""
        if self._fd is not None:
            self.path.unlink(missing_ok=True)  # still held: nobody can take it in between
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.fstat(fd).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        return False


def _write_holder(fd: int) -> None:
    holder = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "since_utc": datetime.now(UTC).isoformat(),
        "command": " ".join(sys.argv),
    }
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode(), 0)
    except OSError:
        pass  # a full disk: the lock holds all the same, only its holder goes unnamed


def _read_holder(fd: int) -> str:
    try:
        holder = json.loads(os.pread(fd, 4096, 0))
        return (
            f"pid {holder['pid']} on {holder['host']} since {holder['since_utc']}: "
            f"{holder['command']}"
        )
    except (OSError, ValueError, KeyError, TypeError):
        return "holder unknown"
