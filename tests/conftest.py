"""Fixtures for every test directory: the shared SrTiO3 reference dataset (when present),
the store builders of ``ptyflow.testing``, one runner of the ``ptyflow`` command, a
small disk to fill up, and processes killed when the test ends."""

from __future__ import annotations

import contextlib
import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ptyflow import testing

#: The documented template of ``ptyflow simulate`` (also the reference-dataset reproduction).
SIMULATE_TOML = Path(__file__).resolve().parents[1] / "configs" / "simulate.toml"
#: ../shared/data/srtio3 beside the repository (CI clones the repo with shared/ next to it).
SRTIO3_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "srtio3"


@pytest.fixture(scope="session")
def srtio3_dir() -> Path:
    """The abTEM reference dataset; tests using it skip in a clone without ../shared."""
    if not (SRTIO3_DIR / "metadata.json").is_file():
        pytest.skip(f"reference dataset not found at {SRTIO3_DIR.resolve()}")
    return SRTIO3_DIR


@pytest.fixture(scope="session")
def srtio3_meta(srtio3_dir: Path) -> dict[str, Any]:
    return json.loads((srtio3_dir / "metadata.json").read_text())


@pytest.fixture(scope="session")
def simulate_toml() -> Path:
    """``configs/simulate.toml``: every option of ``ptyflow simulate``, documented."""
    return SIMULATE_TOML


@pytest.fixture
def make_metadata() -> Callable[..., Any]:
    """:func:`ptyflow.testing.make_metadata`: valid metadata of a small scan."""
    return testing.make_metadata


@pytest.fixture
def make_frames() -> Callable[..., Any]:
    """:func:`ptyflow.testing.poisson_frames`: sparse, distinct frames."""
    return testing.poisson_frames


@pytest.fixture
def write_store() -> Callable[..., Path]:
    """:func:`ptyflow.testing.write_store`: a store written frame by frame."""
    return testing.write_store


@pytest.fixture
def run_cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``ptyflow ARGS`` as a real process in ``tmp_path``; return the completed process."""

    def run(*args: str | Path, timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
        return testing.run_cli(*args, cwd=tmp_path, timeout_s=timeout_s)

    return run


@pytest.fixture
def tmpfs() -> Callable[[Path, int], contextlib.AbstractContextManager[Path]]:
    """``tmpfs(path, size_bytes)``: a context with a small disk mounted at ``path``
    (:func:`ptyflow.testing.small_disk`); skips the test where mounting is not permitted."""

    @contextlib.contextmanager
    def mount(path: Path, size_bytes: int) -> Iterator[Path]:
        with contextlib.ExitStack() as stack:
            try:
                disk = stack.enter_context(testing.small_disk(path, size_bytes))
            except PermissionError as err:
                pytest.skip(f"{err} (needs root)")
            yield disk

    return mount


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[Any]]]:
    """Collects the processes a test starts; any still running at its end is killed (by
    pid), and each is waited for."""
    started: list[subprocess.Popen[Any]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
