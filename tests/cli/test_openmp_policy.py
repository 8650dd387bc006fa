"""The CLI makes OpenMP threads sleep, not spin, while waiting, unless the user chose."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

# The policy has to be in the environment before torch loads OpenMP, so a fresh process.
_RUN = """
import os, sys
from ptyflow.cli import main
loaded = "torch" in sys.modules
main(["info", sys.argv[1]])
print(os.environ["OMP_WAIT_POLICY"], loaded)
"""


@pytest.mark.parametrize(("given", "expected"), [(None, "PASSIVE"), ("ACTIVE", "ACTIVE")])
def test_wait_policy_is_passive_unless_set(tmp_path, given: str | None, expected: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if given is not None:
        env["OMP_WAIT_POLICY"] = given
    out = subprocess.run(
        [sys.executable, "-c", _RUN, str(tmp_path / "missing.zarr")],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out[-2:] == [expected, "False"]  # torch (and OpenMP) loaded only after main set it
