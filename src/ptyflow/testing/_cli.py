"""Running the ``ptyflow`` command as a real process, the way users do."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

__all__ = ["TINY_SIMULATION", "run_cli", "start_cli"]

#: ``--set`` overrides that make ``configs/simulate.toml`` a seconds-long 6×5 scan.
TINY_SIMULATION = [
    "--set", "specimen.repeats=[4, 4, 2]",
    "--set", "specimen.defects=[]",
    "--set", "scan.shape=[6, 5]",
    "--set", "scan.center_A=[7.8, 7.8]",
    "--set", "numerics.oversampling=1",
]  # fmt: skip


def run_cli(
    *args: str | Path,
    cwd: str | Path,
    timeout_s: float = 120,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m ptyflow ARGS`` in ``cwd``; return it completed, output captured as text.

    The same interpreter runs it, so it imports the same ptyflow as the caller.
    """
    return subprocess.run(
        [sys.executable, "-m", "ptyflow", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        env=None if env is None else dict(env),
    )


def start_cli(*args: str | Path, env: Mapping[str, str] | None = None) -> subprocess.Popen[str]:
    """Start ``python -m ptyflow ARGS`` (a daemon, an emulator); stdout and stderr are pipes
    of text. The caller waits for it or stops it."""
    return subprocess.Popen(
        [sys.executable, "-m", "ptyflow", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=None if env is None else dict(env),
    )
