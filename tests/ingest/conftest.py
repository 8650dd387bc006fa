"""Small synthetic 4D arrays and configs for import tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from ptyflow.config import validate_config
from ptyflow.config.import_ import ImportConfig

SCAN = (6, 5)
FRAME = (8, 8)

MakeConfig = Callable[..., ImportConfig]


@pytest.fixture
def counts() -> np.ndarray:
    """Poisson counts saved as float32, as simulators often do: (scan_y, scan_x, ky, kx)."""
    rng = np.random.default_rng(5)
    return rng.poisson(40.0, size=SCAN + FRAME).astype(np.float32)


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and key in out else value
    return out


@pytest.fixture
def make_config() -> MakeConfig:
    """An import config for :data:`SCAN` frames of :data:`FRAME`; sections override keys."""

    def make(**sections: Any) -> ImportConfig:
        base: dict[str, Any] = {
            "beam": {"energy_eV": 300e3, "semiangle_mrad": 20.0},
            "scan": {"shape": list(SCAN), "step_A": [0.5, 0.5]},
            "detector": {"pixel_size_inv_A": 0.1},
        }
        return validate_config(_merge(base, sections), ImportConfig, "test.toml")

    return make
