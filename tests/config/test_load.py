"""The TOML loader: every mistake names the file, the key and what was expected."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import pytest
from pydantic import Field, model_validator

from ptyflow.config import (
    StrictModel,
    apply_overrides,
    load_toml,
    recorded_config,
    validate_config,
)
from ptyflow.errors import ConfigError, ProvenanceError
from ptyflow.provenance import start_record


class Beam(StrictModel):
    energy_eV: float = Field(gt=0)
    semiangle_mrad: float = 20.0


class Example(StrictModel):
    beam: Beam
    label: str = "x"


class Disk(StrictModel):
    kind: Literal["disk"]
    radius_A: float


class Ring(StrictModel):
    kind: Literal["ring"]
    inner_A: float
    outer_A: float

    @model_validator(mode="after")
    def _ordered(self) -> Ring:
        if self.outer_A <= self.inner_A:
            raise ValueError("outer_A must exceed inner_A")
        return self


class Shapes(StrictModel):
    shapes: tuple[Annotated[Disk | Ring, Field(discriminator="kind")], ...] = ()
    first: Annotated[Disk | Ring, Field(discriminator="kind")] | None = None


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "example.toml"
    path.write_text(text)
    return path


def test_valid_file_loads_into_typed_model(tmp_path: Path) -> None:
    cfg = load_toml(_write(tmp_path, "[beam]\nenergy_eV = 3e5\n"), Example)
    assert cfg.beam.energy_eV == 300_000.0
    assert cfg.beam.semiangle_mrad == 20.0


def test_unknown_key_names_file_key_and_suggestion(tmp_path: Path) -> None:
    path = _write(tmp_path, "[beam]\nenergy_eV = 3e5\nenergy_keV = 300\n")
    with pytest.raises(ConfigError) as err:
        load_toml(path, Example)
    msg = str(err.value)
    assert str(path) in msg
    assert "[beam].energy_keV" in msg
    assert "unknown key" in msg
    assert "did you mean 'energy_eV'? units are part of key names" in msg


def test_wrong_type_names_key_and_value(tmp_path: Path) -> None:
    path = _write(tmp_path, '[beam]\nenergy_eV = "300 kV"\n')
    with pytest.raises(ConfigError) as err:
        load_toml(path, Example)
    msg = str(err.value)
    assert "[beam].energy_eV" in msg
    assert "valid number" in msg
    assert "'300 kV'" in msg


def test_out_of_range_value_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[beam\]\.energy_eV: Input should be greater than 0"):
        load_toml(_write(tmp_path, "[beam]\nenergy_eV = -1\n"), Example)


def test_missing_required_section(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="beam: Field required"):
        load_toml(_write(tmp_path, 'label = "y"\n'), Example)


def test_syntax_error_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_toml(_write(tmp_path, "[beam\n"), Example)
    with pytest.raises(ConfigError, match="config file not found"):
        load_toml(tmp_path / "nope.toml", Example)


def test_models_are_frozen(tmp_path: Path) -> None:
    cfg = load_toml(_write(tmp_path, "[beam]\nenergy_eV = 3e5\n"), Example)
    with pytest.raises(ValueError, match="frozen"):
        cfg.beam.energy_eV = 1.0  # type: ignore[misc]


def test_overrides_parse_toml_values_and_create_sections() -> None:
    data = {"beam": {"energy_eV": 1.0}}
    out = apply_overrides(data, ["beam.energy_eV=2e5", "label=hello", "new.shape=[3, 4]"])
    assert out == {"beam": {"energy_eV": 2e5}, "label": "hello", "new": {"shape": [3, 4]}}
    assert data == {"beam": {"energy_eV": 1.0}}  # the input is not mutated


def test_overrides_are_validated_like_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "[beam]\nenergy_eV = 3e5\n")
    assert load_toml(path, Example, ["beam.energy_eV=1e5"]).beam.energy_eV == 1e5
    with pytest.raises(ConfigError, match="unknown key"):
        load_toml(path, Example, ["beam.energy_kV=100"])
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        apply_overrides({}, ["no-equals-sign"])
    with pytest.raises(ConfigError, match="is a value, not a section"):
        apply_overrides({"label": "x"}, ["label.sub=1"])


def test_unknown_key_inside_tagged_unions_and_lists() -> None:
    data = {
        "first": {"kind": "ring", "inner_A": 1.0, "outter_A": 2.0},
        "shapes": [{"kind": "disk", "radius_A": 1.0}, {"kind": "disk", "radius_nm": 1.0}],
    }
    with pytest.raises(ConfigError) as err:
        validate_config(data, Shapes, "s.toml")
    msg = str(err.value)
    # The variant pydantic picked is named by the tag the user wrote, not shown as a key.
    assert "[first].outter_A: unknown key; expected one of kind, inner_A, outer_A" in msg
    assert "(did you mean 'outer_A'?)" in msg  # a typo, not a unit: no unit reminder
    assert "[shapes[1]].radius_nm: unknown key; expected one of kind, radius_A" in msg
    assert "units are part of key names" in msg


def test_error_about_a_whole_variant_names_its_section() -> None:
    data = {"shapes": [{"kind": "ring", "inner_A": 2.0, "outer_A": 1.0}]}
    with pytest.raises(ConfigError) as err:
        validate_config(data, Shapes, "s.toml")
    msg = str(err.value)
    assert "s.toml: [shapes[0]]: Value error, outer_A must exceed inner_A" in msg
    assert "got {" not in msg  # the section itself is not dumped
    with pytest.raises(ConfigError, match=r"s\.toml: \[shapes\[0\]\]\.radius_A: Field required"):
        validate_config({"shapes": [{"kind": "disk"}]}, Shapes, "s.toml")


def test_recorded_config_names_the_record_when_it_cannot_be_rerun(tmp_path: Path) -> None:
    record = start_record("example", config={"beam": {"energy_eV": 3e5}})
    config = recorded_config(record, Example, [tmp_path], expected_inputs=1)
    assert config.beam.energy_eV == 3e5
    with pytest.raises(ProvenanceError, match=rf"record {record.record_id} \(example\): 0 input"):
        recorded_config(record, Example, [], expected_inputs=lambda c: 1)
    with pytest.raises(ProvenanceError, match="holds no config to re-run"):
        recorded_config(start_record("example"), Example, [], expected_inputs=None)
    bad = start_record("example", config={"beam": {"energy_eV": -1}})
    with pytest.raises(ConfigError, match=rf"record {bad.record_id} \(example\) config"):
        recorded_config(bad, Example, [], expected_inputs=None)
