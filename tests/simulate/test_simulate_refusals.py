"""Settings the simulator cannot honour are refused up front, saying the limit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from ptyflow.config.simulate import SimulateConfig
from ptyflow.errors import ConfigError, PhysicsError, PtyflowError
from ptyflow.simulate import plan_simulation, run_simulation
from ptyflow.simulate._budget import estimate_budget

MakeConfig = Callable[..., SimulateConfig]


@pytest.mark.parametrize(
    ("sections", "expected"),
    [
        ({"scan": {"shape": [100000, 100000]}}, "scan positions (scan.shape)"),
        ({"scan": {"step_A": [1e6, 1e6]}, "dose": {"poisson_noise": False}}, "object under"),
        ({"specimen": {"repeats": [100000, 100000, 1]}}, "atoms (specimen.repeats)"),
        ({"specimen": {"slice_thickness_A": 1e-9}}, "specimen potential"),
    ],
)
def test_huge_simulations_are_refused_before_allocating(
    make_config: MakeConfig, sections: dict, expected: str
) -> None:
    with pytest.raises(ConfigError, match=r"needs about .* GB of memory, more than") as err:
        plan_simulation(make_config(**sections))
    assert expected in str(err.value)


def test_estimate_is_the_right_size(make_config: MakeConfig) -> None:
    """Against the arrays a small plan really holds: within a factor of a few."""
    plan = plan_simulation(make_config())
    held = plan.obj.phase.nbytes + plan.obj.transmission.nbytes
    estimated = estimate_budget(plan.config, plan.window).memory
    assert held <= estimated["object under the scan (scan.shape × scan.step_A, slices)"] <= 4 * held


def test_disk_too_small_is_refused(make_config: MakeConfig, tmp_path: Path) -> None:
    budget = estimate_budget(make_config(), plan_simulation(make_config()).window)
    big = type(budget)(budget.memory, disk_bytes=1e30)
    with pytest.raises(ConfigError, match=r"need up to 1e\+21 GB \(uncompressed\), more than"):
        big.check(tmp_path / "s.zarr")


@pytest.mark.parametrize(
    ("sections", "message"),
    [
        ({"beam": {"semiangle_mrad": 500.0}}, r"exceeds the simulated band limit of \d+\.\d mrad"),
        ({"detector": {"shape": [1, 1]}}, r"band limit .* \(set by detector\.shape"),
        (
            {"detector": {"shape": [1, 1]}, "numerics": {"max_angle_mrad": 100.0}},
            r"detector\.shape \(1, 1\) .* reaches 0\.0707 1/Å .* inside the 1\.09 1/Å bright",
        ),
        ({"dose": {"dose_e_per_A2": 1e14}}, r"counts per pixel up to 2\.5e\+13, beyond .*uint32"),
        (
            {"dose": {"dose_e_per_A2": 1e40, "poisson_noise": False}},
            r"beyond the 3\.403e\+38 that float32",
        ),
        (
            {"scan": {"center_A": [-500.0, 0.0]}},
            r"scan\.center_A \(-500\.0, 0\.0\).* outside the specimen: they span y -50",
        ),
    ],
)
def test_unrepresentable_settings_are_refused(
    make_config: MakeConfig, tmp_path: Path, sections: dict, message: str
) -> None:
    store = tmp_path / "s.zarr"
    with pytest.raises((PhysicsError, ConfigError), match=message):
        run_simulation(make_config(**sections), store, progress=False)
    assert not store.exists()  # refused before anything was written


def test_non_finite_patterns_are_refused(make_config: MakeConfig, tmp_path: Path) -> None:
    """Whatever made them, NaN frames never become a complete store of NaN."""
    cfg = make_config(dose={"poisson_noise": False})
    plan = plan_simulation(cfg)
    plan.obj.transmission[0, 5, 5] = np.nan  # the sampled object, as numerics gone wrong would
    blocks = plan.simulator.blocks(
        plan.positions_A, cfg.scan.shape, plan.electrons_per_position, poisson_seed=None
    )
    with pytest.raises(PtyflowError, match=r"scan position \(0, \d\) is not finite"):
        list(blocks)
