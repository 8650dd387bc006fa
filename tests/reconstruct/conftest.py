"""Fixtures for the reconstructor tests: reference stores and the shared scorer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ptyflow.config import apply_overrides, validate_config
from ptyflow.config.reconstruct import ReconstructConfig
from ptyflow.testing import reference_store

#: ../shared/tools/score.py: the measuring instrument, run from where it lives.
SCORE_SCRIPT = Path(__file__).resolve().parents[2] / ".." / "shared" / "tools" / "score.py"


def make_config(*overrides: str) -> ReconstructConfig:
    """A config from ``section.key=value`` overrides on top of the defaults."""
    return validate_config(apply_overrides({}, overrides), ReconstructConfig, "test")


@pytest.fixture(scope="session")
def score_script(srtio3_dir: Path) -> Path:
    if not SCORE_SCRIPT.is_file():
        pytest.skip(f"scorer not found at {SCORE_SCRIPT.resolve()}")
    pytest.importorskip("skimage", reason="../shared/tools/score.py needs scikit-image")
    return SCORE_SCRIPT


Centred = Callable[..., tuple[Path, dict[str, Any]]]


@pytest.fixture
def centred_store(srtio3_dir: Path, tmp_path: Path) -> Centred:
    """The reference data cropped to the central ``n``×``n`` positions, as a store."""

    def make(
        variant: str = "noisy", n: int = 20, masks: np.ndarray | None = None
    ) -> tuple[Path, dict[str, Any]]:
        crop = slice(16 - n // 2, 16 + n // 2)
        path = tmp_path / f"{variant}{n}.zarr"
        meta = reference_store(srtio3_dir, path, variant, crop=(crop, crop), masks=masks)  # type: ignore[arg-type]
        return path, meta

    return make
