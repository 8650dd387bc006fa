"""Strict configs: a string is not a number, overrides are named, specimen paths resolve."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ptyflow.config import load_toml
from ptyflow.config.simulate import SimulateConfig
from ptyflow.errors import ConfigError


@pytest.mark.parametrize(
    ("override", "where"),
    [
        ('dose.dose_e_per_A2="300000"', "[dose].dose_e_per_A2"),
        ('dose.poisson_noise="off"', "[dose].poisson_noise"),
        ('scan.step_A=["0.4", 0.4]', "[scan].step_A[0]"),
        ('scan.shape=["8", 8.0]', "[scan].shape[0]"),
        ("scan.shape=[8, 8.0]", "[scan].shape[1]"),
        ("scan.center_A=[nan, 0.0]", "[scan].center_A[0]"),
        ("scan.jitter_seed=-1", "[scan].jitter_seed"),
        ("beam.semiangle_mrad=1e6", "[beam].semiangle_mrad"),
    ],
)
def test_no_silent_coercion_and_the_override_is_named(
    simulate_toml: Path, override: str, where: str
) -> None:
    with pytest.raises(ConfigError) as err:
        load_toml(simulate_toml, SimulateConfig, [override])
    assert f"--set {override}: {where}:" in str(err.value)


def test_file_values_are_strict_too(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[dose]\ndose_e_per_A2 = "300000"\npoisson_noise = "off"\n')
    with pytest.raises(ConfigError) as err:
        load_toml(config, SimulateConfig)
    text = str(err.value)
    assert f"{config}: [dose].dose_e_per_A2: Input should be a valid number" in text
    assert f"{config}: [dose].poisson_noise: Input should be a valid boolean" in text


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("scan.shape=[32,32", "--set scan.shape=[32,32: value is not valid TOML"),
        (".dose=1", "--set .dose=1: expected KEY=VALUE"),
        ("dose..seed=1", "--set dose..seed=1: expected KEY=VALUE"),
    ],
)
def test_malformed_override_is_named(simulate_toml: Path, override: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace(".", r"\.")):
        load_toml(simulate_toml, SimulateConfig, [override])


def _phase_config(tmp_path: Path, path: str) -> Path:
    config = tmp_path / "configs" / "phase.toml"
    config.parent.mkdir(exist_ok=True)
    config.write_text(f'[specimen]\nkind = "phase_image"\npath = "{path}"\npixel_size_A = 0.2\n')
    return config


def test_phase_image_path_is_relative_to_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    np.save(tmp_path / "phase.npy", np.zeros(4))
    (tmp_path / "configs").mkdir()
    np.save(tmp_path / "configs" / "phase.npy", np.zeros((8, 8)))
    config = _phase_config(tmp_path, "phase.npy")
    monkeypatch.chdir(tmp_path)  # where another phase.npy lies: it must not be taken
    loaded = load_toml(config, SimulateConfig)
    assert loaded.specimen.path == (tmp_path / "configs" / "phase.npy").resolve()


def test_missing_phase_image_names_config_and_resolved_path(tmp_path: Path) -> None:
    config = _phase_config(tmp_path, "nope.npy")
    with pytest.raises(ConfigError) as err:
        load_toml(config, SimulateConfig)
    text = str(err.value)
    assert str(config) in text and "[specimen].path" in text
    assert str((tmp_path / "configs" / "nope.npy").resolve()) in text
