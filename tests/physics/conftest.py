"""Fixtures for the physics tests: the shared SrTiO3 reference dataset, when present."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

#: ../shared/data/srtio3 beside the repository (CI clones the repo with shared/ next to it).
SRTIO3_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "srtio3"


@pytest.fixture(scope="session")
def srtio3_dir() -> Path:
    if not (SRTIO3_DIR / "metadata.json").is_file():
        pytest.skip(f"reference dataset not found at {SRTIO3_DIR.resolve()}")
    return SRTIO3_DIR


@pytest.fixture(scope="session")
def srtio3_meta(srtio3_dir: Path) -> dict[str, Any]:
    return json.loads((srtio3_dir / "metadata.json").read_text())
