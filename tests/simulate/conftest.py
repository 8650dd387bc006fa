"""Fixtures for the simulator tests: small configs and phase images."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ptyflow.config import validate_config
from ptyflow.config.simulate import SimulateConfig
from ptyflow.testing import merge_sections

MakeConfig = Callable[..., SimulateConfig]


#: A small, fast simulation: 32×32 detector, no oversampling, 4×4 scan, thin SrTiO3.
SMALL: dict[str, Any] = {
    "specimen": {"kind": "crystal", "crystal": "SrTiO3_001", "repeats": [4, 4, 2]},
    "scan": {"shape": [4, 4], "step_A": [0.5, 0.5]},
    "detector": {"shape": [32, 32], "pixel_size_inv_A": 0.1},
    "numerics": {"oversampling": 1},
}


@pytest.fixture
def make_config() -> MakeConfig:
    """``make_config(overlay, ..., section={...})``: SMALL with overlays and sections merged
    in, in that order."""

    def make(*overlays: dict[str, Any], **sections: Any) -> SimulateConfig:
        data = SMALL
        for overlay in (*overlays, sections):
            data = merge_sections(data, overlay)
        return validate_config(data, SimulateConfig)

    return make


@pytest.fixture
def phase_image(tmp_path: Path) -> Callable[[np.ndarray], Path]:
    """Save a phase image as .npy in tmp_path and return its path."""

    def save(image: np.ndarray, name: str = "phase.npy") -> Path:
        path = tmp_path / name
        np.save(path, image)
        return path

    return save
