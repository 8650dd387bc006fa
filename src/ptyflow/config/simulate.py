"""The ``ptyflow simulate`` config: beam, specimen, scan, detector, dose and numerics.

Every option is shown and explained in ``configs/simulate.toml``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    NonNegativeInt,
    PositiveInt,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ptyflow._models import PositiveFloat, StrictModel
from ptyflow.config._base import existing_file_near_config
from ptyflow.physics import CRYSTALS, Probe, known_elements

__all__ = [
    "CrystalSpecimen",
    "DetectorConfig",
    "DoseConfig",
    "NumericsConfig",
    "PhaseImageSpecimen",
    "ScanConfig",
    "SimulateConfig",
    "Substitution",
    "Vacancy",
]


class _Defect(StrictModel):
    site: str = Field(description="site label in the unit cell, e.g. 'Sr' or 'O2'")
    cell: tuple[NonNegativeInt, NonNegativeInt] = Field(
        description="(iy, ix) unit cell of the column in the supercell"
    )
    layers: tuple[NonNegativeInt, ...] | None = Field(
        None, description="unit cells along z to change (default: the whole column)"
    )


class Substitution(_Defect):
    """Replace the atoms of a site in one column (or some of its layers) by another element."""

    kind: Literal["substitution"]
    element: str = Field(description="the element put in, e.g. 'Ba'")

    @field_validator("element")
    @classmethod
    def _known_element(cls, value: str) -> str:
        if value not in known_elements():
            known = ", ".join(known_elements())
            raise ValueError(f"unknown element {value!r}; expected one of {known}")
        return value


class Vacancy(_Defect):
    """Remove the atoms of a site in one column (or some of its layers)."""

    kind: Literal["vacancy"]


class CrystalSpecimen(StrictModel):
    """A built-in crystal tiled to a periodic supercell, sliced along the beam."""

    kind: Literal["crystal"] = "crystal"
    crystal: str = Field("SrTiO3_001", description="built-in crystal name")
    repeats: tuple[PositiveInt, PositiveInt, PositiveInt] = Field(
        (10, 10, 6), description="(y, x, z) unit cells; z sets the thickness"
    )
    slice_thickness_A: PositiveFloat | None = Field(
        None, description="multislice slice thickness [Å]; default: the crystal's plane spacing"
    )
    defects: tuple[Annotated[Substitution | Vacancy, Field(discriminator="kind")], ...] = ()

    @field_validator("crystal")
    @classmethod
    def _known_crystal(cls, value: str) -> str:
        if value not in CRYSTALS:
            raise ValueError(f"unknown crystal {value!r}; expected one of {sorted(CRYSTALS)}")
        return value

    @model_validator(mode="after")
    def _defects_fit(self) -> CrystalSpecimen:
        crystal = CRYSTALS[self.crystal]
        labels = [s.label for s in crystal.sites]
        for i, d in enumerate(self.defects):
            where = f"defects[{i}]"
            if d.site not in labels:
                raise ValueError(
                    f"{where}.site {d.site!r} is not a site of {self.crystal}: {labels}"
                )
            if d.cell[0] >= self.repeats[0] or d.cell[1] >= self.repeats[1]:
                raise ValueError(f"{where}.cell {d.cell} lies outside repeats {self.repeats[:2]}")
            if d.layers is not None and max(d.layers, default=0) >= self.repeats[2]:
                raise ValueError(f"{where}.layers {d.layers} exceed the {self.repeats[2]} layers")
        return self


class PhaseImageSpecimen(StrictModel):
    """A user phase image (.npy, 2D, [rad]) taken as one period of a single-slice phase object."""

    kind: Literal["phase_image"]
    path: Path = Field(
        strict=False,  # a path is written as a string
        description="2D .npy array of phase shifts [rad], axes (y, x); a relative path is "
        "relative to the config file",
    )
    pixel_size_A: PositiveFloat = Field(description="pixel size of the image [Å]")

    @field_validator("path")
    @classmethod
    def _resolved(cls, path: Path, info: ValidationInfo) -> Path:
        return existing_file_near_config(path, info, "phase image")


class ScanConfig(StrictModel):
    """The probe raster; see docs/conventions.md for the rotation sign."""

    shape: tuple[PositiveInt, PositiveInt] = Field((32, 32), description="(ny, nx) positions")
    step_A: tuple[PositiveFloat, PositiveFloat] = Field((0.4, 0.4), description="(sy, sx) [Å]")
    rotation_deg: float = Field(
        0.0, allow_inf_nan=False, description="fast-scan axis from +x towards +y [deg]"
    )
    center_A: tuple[float, float] | None = Field(
        None, description="(y, x) of the scan centre in the specimen [Å]; default: its centre"
    )
    jitter_A: float = Field(
        0.0,
        ge=0.0,
        allow_inf_nan=False,
        description="std of random probe-position errors per axis [Å]; the store records the "
        "nominal raster, the ground truth where the probe really was",
    )
    jitter_seed: NonNegativeInt = Field(0, description="seed of the position errors")


class DetectorConfig(StrictModel):
    """The pixelated detector; k = 0 at pixel (ny//2, nx//2)."""

    shape: tuple[PositiveInt, PositiveInt] = Field((64, 64), description="(nky, nkx) pixels")
    pixel_size_inv_A: PositiveFloat = Field(0.0768245838668374, description="[1/Å per pixel]")


class NumericsConfig(StrictModel):
    """Accuracy and speed of the multislice; none of it changes the physics being modelled."""

    oversampling: PositiveInt = Field(
        3, description="simulate on a k grid this much finer than the detector and sum (odd)"
    )
    max_angle_mrad: PositiveFloat | None = Field(
        None,
        description="simulate scattering out to at least this angle [mrad]; "
        "default: the detector's corners",
    )
    batch_size: PositiveInt = Field(32, description="probe positions computed together")

    @field_validator("oversampling")
    @classmethod
    def _odd(cls, value: int) -> int:
        # Odd, so k = 0 is the centre of a simulated sub-pixel as well as of a detector pixel.
        if value % 2 == 0:
            raise ValueError(f"oversampling must be odd (1, 3, 5, ...), got {value}")
        return value


class DoseConfig(StrictModel):
    """Electrons and counting noise."""

    dose_e_per_A2: PositiveFloat = Field(1e5, description="electron dose [e/Å²]")
    poisson_noise: bool = Field(True, description="uint32 Poisson counts; false: float32 means")
    seed: NonNegativeInt = Field(0, description="seed of the Poisson noise")


#: The beam when a config leaves it out: the shared SrTiO3 reference's 300 kV probe.
_DEFAULT_BEAM = {"energy_eV": 300e3, "semiangle_mrad": 21.4, "aberrations": {"C10_A": -100.0}}


class SimulateConfig(StrictModel):
    """Everything ``ptyflow simulate`` needs; every quantity carries its unit in its name."""

    beam: Probe = Field(default_factory=lambda: Probe.model_validate(_DEFAULT_BEAM))
    specimen: Annotated[CrystalSpecimen | PhaseImageSpecimen, Field(discriminator="kind")] = Field(
        default_factory=CrystalSpecimen
    )
    scan: ScanConfig = Field(default_factory=ScanConfig)
    detector: DetectorConfig = Field(default_factory=DetectorConfig)
    dose: DoseConfig = Field(default_factory=DoseConfig)
    numerics: NumericsConfig = Field(default_factory=NumericsConfig)

    @field_validator("beam", mode="before")
    @classmethod
    def _partial_beam_keeps_defaults(cls, beam: Any) -> Any:
        # Like every other section, a [beam] that sets some keys keeps the defaults of the
        # rest (Probe itself has none: a store's metadata must state its beam). A given
        # [beam.aberrations] replaces the default one whole: unlisted coefficients are zero.
        # (A field validator, not a model one: that would make pydantic validate the whole
        # document in Python mode, where a TOML array is not a tuple.)
        return {**_DEFAULT_BEAM, **beam} if isinstance(beam, dict) else beam
