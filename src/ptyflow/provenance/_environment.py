"""Capture what software and hardware made an artifact."""

from __future__ import annotations

import getpass
import importlib.metadata
import os
import platform
import socket
import subprocess
import sys
from pathlib import Path

from pydantic import BaseModel, ConfigDict

__all__ = ["Environment", "capture_environment", "git_commit"]

# The packages whose versions change results or file formats.
_TRACKED_PACKAGES = ("ptyflow", "numpy", "scipy", "numba", "zarr", "numcodecs", "pyzmq", "torch")


class Environment(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str
    user: str
    platform: str
    python: str
    cpu: str
    cpu_count: int
    packages: dict[str, str]
    git_commit: str | None
    git_dirty: bool | None
    gpus: list[str] | None = None
    cuda: str | None = None


def git_commit(path: Path) -> tuple[str | None, bool | None]:
    """(commit, dirty) of the git checkout holding ``path``, or (None, None) if none."""
    try:
        top = subprocess.run(
            ["git", "-C", str(path), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", str(path), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None, None
    return top, bool(status.strip())


def _package_versions() -> dict[str, str]:
    versions = {}
    for name in _TRACKED_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def _gpu_details() -> tuple[list[str] | None, str | None]:
    """GPU names and CUDA version, only if torch is already imported (never import it here)."""
    torch = sys.modules.get("torch")
    if torch is None or not torch.cuda.is_available():
        return None, None
    names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return names, torch.version.cuda


def _cpu_model() -> str:
    """The CPU's model name (Linux), else what ``platform`` knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def capture_environment() -> Environment:
    """Host, user, software versions, git commit and (for compute jobs) GPUs of this process."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    commit, dirty = git_commit(Path(__file__).resolve().parent)
    gpus, cuda = _gpu_details()
    return Environment(
        host=socket.gethostname(),
        user=user,
        platform=platform.platform(),
        python=sys.version.split()[0],
        cpu=_cpu_model(),
        cpu_count=os.cpu_count() or 1,
        packages=_package_versions(),
        git_commit=commit,
        git_dirty=dirty,
        gpus=gpus,
        cuda=cuda,
    )
