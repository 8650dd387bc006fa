"""Fixtures for every test directory: the shared SrTiO3 reference dataset, when present."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

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
