"""``ptyflow simulate`` stopped by SIGTERM (as Slurm and systemd do) closes the store as failed."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import numpy as np

from ptyflow.dataset import DatasetState, open_dataset, validate_dataset
from ptyflow.testing import TINY_SIMULATION

# `ptyflow simulate` whose simulator, after the first scan row, says "ready" and waits.
_STALLED_SIMULATE = """
import sys, time
from ptyflow.simulate._frames import FrameSimulator
real_blocks = FrameSimulator.blocks
def blocks(self, *args, **kwargs):
    for block in real_blocks(self, *args, **kwargs):
        yield block
        print("ready", flush=True)
        time.sleep(600)
FrameSimulator.blocks = blocks
from ptyflow.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_sigterm_closes_the_store_as_failed(tmp_path: Path, simulate_toml: Path) -> None:
    store = tmp_path / "s.zarr"
    proc = subprocess.Popen(
        [sys.executable, "-c", _STALLED_SIMULATE, "simulate", str(simulate_toml),
         "--out", str(store), "--no-progress", *TINY_SIMULATION],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "ready\n", proc.communicate()[1]
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 143, err
    assert "terminated by signal SIGTERM" in err and "Traceback" not in err
    ds = open_dataset(store)
    assert ds.state is DatasetState.FAILED
    expected = np.zeros((6, 5), bool)
    expected[0] = True  # the first scan row was written before the signal
    np.testing.assert_array_equal(ds.frames_received, expected)
    assert len(list(ds.iter_frames())) == 5
    problems = validate_dataset(store, verify_checksums=True)
    assert len(problems) == 1 and "acquisition ended with an error" in problems[0]
