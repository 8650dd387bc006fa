"""Small synthetic 4D arrays and configs for import tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from ptyflow.config import validate_config
from ptyflow.config.import_ import ImportConfig
from ptyflow.testing import merge_sections

SCAN = (6, 5)
FRAME = (8, 8)

MakeConfig = Callable[..., ImportConfig]


@pytest.fixture
def counts() -> np.ndarray:
    """Poisson counts saved as float32, as simulators often do: (scan_y, scan_x, ky, kx)."""
    rng = np.random.default_rng(5)
    return rng.poisson(40.0, size=SCAN + FRAME).astype(np.float32)


@pytest.fixture
def make_config() -> MakeConfig:
    """An import config for :data:`SCAN` frames of :data:`FRAME`; sections override keys."""

    def make(**sections: Any) -> ImportConfig:
        base: dict[str, Any] = {
            "beam": {"energy_eV": 300e3, "semiangle_mrad": 20.0},
            "scan": {"shape": list(SCAN), "step_A": [0.5, 0.5]},
            "detector": {"pixel_size_inv_A": 0.1},
        }
        return validate_config(merge_sections(base, sections), ImportConfig, "test.toml")

    return make
