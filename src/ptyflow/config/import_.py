"""The ``ptyflow import`` config: where the frames are in the file, and what they are.

The source file holds frames only; everything physical (beam, scan, detector calibration)
comes from here. Calibration is given for the frames *as stored in the file*; with
``bin_factor`` > 1 the store records the raw detector they were binned from. Every option
is shown and explained in ``configs/import.toml``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import (
    AwareDatetime,
    Field,
    PositiveInt,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ptyflow._models import FiniteFloat, PositiveFloat, StrictModel
from ptyflow.config._base import relative_to_config
from ptyflow.physics import Probe

__all__ = [
    "FRAME_AXES",
    "STACK_AXES",
    "ImportAcquisition",
    "ImportConfig",
    "ImportDetector",
    "ImportScan",
    "SourceConfig",
    "TruthImport",
]


def _relative_to_config(path: Path | None, info: ValidationInfo) -> Path | None:
    """Existence is checked when the file is read, not here."""
    return None if path is None else relative_to_config(path, info)


#: Axis names of a 4D source, in the store's order, and of a 3D stack of frames.
FRAME_AXES = ("scan_y", "scan_x", "ky", "kx")
STACK_AXES = ("scan", "ky", "kx")


class SourceConfig(StrictModel):
    """The array in the file, and how to read it."""

    dataset: str | None = Field(
        None,
        description="HDF5 only: path of the array inside the file; default: the file's only "
        "4D dataset",
    )
    axes: tuple[str, ...] = Field(FRAME_AXES, description="the source array's axis order")
    dtype: Literal["auto", "uint16", "uint32", "float32"] = Field(
        "auto", description="stored dtype; auto: integers if every count is integral"
    )
    nan_frames: Literal["error", "missing"] = Field(
        "error", description="an all-NaN frame is an error, or a frame that never arrived"
    )
    frames_received_path: Path | None = Field(
        None, description=".npy bool (ny, nx): false where a frame is missing"
    )

    _paths = field_validator("frames_received_path")(_relative_to_config)

    @field_validator("axes")
    @classmethod
    def _known_axes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if sorted(value) not in (sorted(FRAME_AXES), sorted(STACK_AXES)):
            raise ValueError(
                f"axes must order {list(FRAME_AXES)} (a 4D array) or {list(STACK_AXES)} "
                f"(a stack of frames in raster order), got {list(value)}"
            )
        return value


class ImportScan(StrictModel):
    """The probe raster (docs/conventions.md: rotation sign)."""

    shape: tuple[PositiveInt, PositiveInt] = Field(description="(ny, nx) positions")
    step_A: tuple[PositiveFloat, PositiveFloat] = Field(description="(sy, sx) [Å]")
    rotation_deg: FiniteFloat = Field(0.0, description="fast-scan axis from +x towards +y")
    positions_path: Path | None = Field(
        None, description=".npy (N, 2) (y, x) [Å] positions, checked against the raster"
    )

    _paths = field_validator("positions_path")(_relative_to_config)


class ImportDetector(StrictModel):
    """Calibration of the frames as they are in the file (binned ones included)."""

    pixel_size_inv_A: PositiveFloat | None = Field(None, description="[1/Å per frame pixel]")
    pixel_size_mrad: PositiveFloat | None = Field(None, description="[mrad per frame pixel]")
    center_px: tuple[FiniteFloat, FiniteFloat] | None = Field(
        None, description="(cy, cx) frame pixel of k = 0; default: the fftshift centre"
    )
    bin_factor: PositiveInt = Field(1, description="frames were summed b×b on the detector")
    bit_depth: int | None = Field(None, ge=1, le=32, description="counter depth [bits]")
    name: str = Field("imported", min_length=1)
    serial: str | None = None

    @model_validator(mode="after")
    def _one_pixel_size(self) -> ImportDetector:
        if self.pixel_size_inv_A is None and self.pixel_size_mrad is None:
            raise ValueError("give pixel_size_inv_A or pixel_size_mrad (or both, agreeing)")
        return self


class TruthImport(StrictModel):
    """A ground-truth phase to put beside the store as ``S.truth/`` for ``ptyflow score``."""

    path: Path = Field(description=".npy or HDF5 file of the phase [rad], (y, x) or (slice, y, x)")
    dataset: str | None = Field(None, description="HDF5 only: path of the array in the file")
    pixel_size_A: PositiveFloat = Field(description="[Å]")
    origin_A: tuple[FiniteFloat, FiniteFloat] = Field(
        description="scan-frame (y, x) [Å] of the centre of truth pixel (0, 0)"
    )
    periodic: bool = Field(False, description="the array is exactly one period of the specimen")
    slice_thicknesses_A: tuple[PositiveFloat, ...] | None = Field(
        None, description="one per slice of a 3D truth [Å]"
    )

    _paths = field_validator("path")(_relative_to_config)


class ImportAcquisition(StrictModel):
    """What the store says about where the data came from."""

    source: str | None = Field(None, description="what made the frames; default names the file")
    started_utc: AwareDatetime | None = Field(
        None, description="when the data were recorded; default: the file's modification time"
    )


class ImportConfig(StrictModel):
    """Everything ``ptyflow import`` needs besides the data file itself."""

    source: SourceConfig = Field(default_factory=SourceConfig)
    beam: Probe
    scan: ImportScan
    detector: ImportDetector
    acquisition: ImportAcquisition = Field(default_factory=ImportAcquisition)
    truth: TruthImport | None = None

    @model_validator(mode="after")
    def _pixel_sizes_agree(self) -> ImportConfig:
        det = self.detector
        if det.pixel_size_inv_A is not None and det.pixel_size_mrad is not None:
            as_mrad = det.pixel_size_inv_A * self.beam.wavelength_A * 1e3
            if abs(as_mrad - det.pixel_size_mrad) > 1e-3 * det.pixel_size_mrad:
                raise ValueError(
                    f"detector.pixel_size_inv_A = {det.pixel_size_inv_A:g} is "
                    f"{as_mrad:.6g} mrad at {self.beam.energy_eV:g} eV, which contradicts "
                    f"detector.pixel_size_mrad = {det.pixel_size_mrad:g}"
                )
        return self

    @property
    def frame_pixel_size_inv_A(self) -> float:
        """Reciprocal pixel size of the frames as stored [1/Å]."""
        det = self.detector
        if det.pixel_size_inv_A is not None:
            return det.pixel_size_inv_A
        assert det.pixel_size_mrad is not None  # one of the two is required
        return det.pixel_size_mrad * 1e-3 / self.beam.wavelength_A
