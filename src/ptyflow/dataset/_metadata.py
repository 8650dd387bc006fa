"""The dataset metadata models: what was measured, with units, and what was done to it.

The whole model is stored as JSON under the group attribute ``ptyflow`` of a store
(``docs/dataset-store.md``). Every quantity carries its unit in its name: ``energy_eV``,
``semiangle_mrad``, ``step_A`` [Å], ``rotation_deg``, ``pixel_size_inv_A`` [1/Å per pixel].
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final, Literal

from pydantic import AwareDatetime, Field, PositiveInt, field_validator, model_validator

from ptyflow._models import PositiveFloat, StrictModel
from ptyflow.physics import Probe

__all__ = [
    "SCHEMA_ID",
    "SCHEMA_VERSION",
    "Acquisition",
    "Compression",
    "DatasetMetadata",
    "DatasetState",
    "Detector",
    "FrameGrid",
    "Scan",
]

SCHEMA_ID: Final = "ptyflow.dataset"
#: Bump on any change a reader of the previous version would misread; see the spec's
#: "Schema versioning" section.
SCHEMA_VERSION = 1

Pair = tuple[PositiveInt, PositiveInt]


class DatasetState(StrEnum):
    """Lifecycle of a store: ``acquiring`` → ``complete`` | ``incomplete`` | ``failed``."""

    ACQUIRING = "acquiring"  # a writer holds it open, or crashed holding it
    COMPLETE = "complete"  # closed, every scan position received
    INCOMPLETE = "incomplete"  # closed normally, some positions never arrived
    FAILED = "failed"  # closed by an exception; what arrived is readable


class Scan(StrictModel):
    """The probe positions: a raster of ``shape`` positions, optionally repeated in time."""

    shape: Pair = Field(description="(ny, nx) scan positions")
    step_A: tuple[PositiveFloat, PositiveFloat] = Field(description="(sy, sx) step [Å]")
    rotation_deg: float = Field(
        0.0,
        allow_inf_nan=False,
        description="scan rotation [deg], as ptyflow.physics.scan: fast-scan direction "
        "(y, x) = (sin θ, cos θ)",
    )
    n_time: PositiveInt | None = Field(None, description="frames of an in-situ series, or None")
    time_step_s: PositiveFloat | None = Field(None, description="time between scans [s]")

    @property
    def nav_shape(self) -> tuple[int, ...]:
        """``(t, ny, nx)`` for a time series, else ``(ny, nx)``."""
        return self.shape if self.n_time is None else (self.n_time, *self.shape)

    @model_validator(mode="after")
    def _time_step_needs_series(self) -> Scan:
        if self.time_step_s is not None and self.n_time is None:
            raise ValueError("time_step_s is only meaningful with n_time (a time series)")
        return self


class Detector(StrictModel):
    """The pixelated detector, calibrated in reciprocal space."""

    shape: Pair = Field(description="(nky, nkx) pixels")
    pixel_size_inv_A: PositiveFloat = Field(description="reciprocal sampling [1/Å per pixel]")
    center_px: tuple[float, float] = Field(description="(cy, cx) pixel of k = 0")
    bit_depth: int = Field(ge=1, le=32, description="counter depth [bits]")
    name: str = Field(min_length=1)
    serial: str | None = None

    @model_validator(mode="after")
    def _center_on_detector(self) -> Detector:
        for axis, c, n in zip(("cy", "cx"), self.center_px, self.shape, strict=True):
            if not 0.0 <= c <= n - 1:
                raise ValueError(f"center_px {axis}={c} lies outside the detector (0 … {n - 1})")
        return self


class Acquisition(StrictModel):
    """Everything about how the data were measured (or simulated)."""

    beam: Probe
    scan: Scan
    detector: Detector
    source: str = Field(min_length=1, description="what produced the frames, e.g. 'simulate'")
    started_utc: AwareDatetime
    finished_utc: AwareDatetime | None = None

    @field_validator("started_utc", "finished_utc")
    @classmethod
    def _to_utc(cls, value: datetime | None) -> datetime | None:
        return None if value is None else value.astimezone(UTC)

    @model_validator(mode="after")
    def _finished_after_started(self) -> Acquisition:
        if self.finished_utc is not None and self.finished_utc < self.started_utc:
            raise ValueError("finished_utc is earlier than started_utc")
        return self


class Compression(StrictModel):
    """The reduction applied before storage (the byte codec is in the array's own metadata).

    - ``none``: full detector frames.
    - ``bin``: frames summed over ``bin_factor`` × ``bin_factor`` pixel blocks.
    - ``virtual``: one signal per mask and frame, ``signal[i] = Σ mask[i] · frame``.
    """

    kind: Literal["none", "bin", "virtual"] = "none"
    bin_factor: int | None = Field(None, ge=2)
    mask_names: tuple[str, ...] | None = None

    @property
    def n_masks(self) -> int:
        """Number of virtual-detector masks (0 unless ``kind="virtual"``)."""
        return len(self.mask_names or ())

    @model_validator(mode="after")
    def _params_match_kind(self) -> Compression:
        if (self.kind == "bin") != (self.bin_factor is not None):
            raise ValueError("bin_factor is required for kind='bin' and only allowed there")
        if (self.kind == "virtual") != (self.mask_names is not None):
            raise ValueError("mask_names is required for kind='virtual' and only allowed there")
        names = self.mask_names
        if names is not None and (not names or len(set(names)) != len(names)):
            raise ValueError("mask_names must be non-empty and unique")
        return self


@dataclass(frozen=True)
class FrameGrid:
    """The pixel grid that stored frames (or, for virtual data, the masks) are sampled on."""

    shape: tuple[int, int]
    pixel_size_inv_A: float  # [1/Å per pixel]
    center_px: tuple[float, float]  # (cy, cx) of k = 0 [pixels]


class DatasetMetadata(StrictModel):
    """The validated content of a store's ``ptyflow`` attribute.

    ``schema_id``, ``schema_version`` and ``state`` are set by the library; pass
    ``acquisition`` and, unless the frames are stored whole, ``compression``.
    """

    schema_id: Literal["ptyflow.dataset"] = SCHEMA_ID
    schema_version: int = SCHEMA_VERSION
    state: DatasetState = DatasetState.ACQUIRING
    acquisition: Acquisition
    compression: Compression = Field(default_factory=Compression)

    @field_validator("schema_version")
    @classmethod
    def _supported_version(cls, value: int) -> int:
        if value != SCHEMA_VERSION:
            raise ValueError(f"schema_version {value} is not {SCHEMA_VERSION}")
        return value

    @model_validator(mode="after")
    def _binning_divides_detector(self) -> DatasetMetadata:
        b = self.compression.bin_factor
        if b is not None and any(n % b for n in self.acquisition.detector.shape):
            raise ValueError(
                f"bin_factor {b} does not divide detector shape {self.acquisition.detector.shape}"
            )
        return self

    @property
    def nav_shape(self) -> tuple[int, ...]:
        """Scan positions: ``(ny, nx)`` or ``(t, ny, nx)``."""
        return self.acquisition.scan.nav_shape

    @property
    def nav_dims(self) -> tuple[str, ...]:
        """Names of the navigation axes."""
        return ("t", "scan_y", "scan_x")[-len(self.nav_shape) :]

    @property
    def frame_shape(self) -> tuple[int, ...]:
        """Shape of one stored frame: ``(ky, kx)``, binned ``(ky/b, kx/b)`` or ``(n_masks,)``."""
        if self.compression.kind == "virtual":
            return (self.compression.n_masks,)
        return self.frame_grid.shape

    @property
    def frame_dims(self) -> tuple[str, ...]:
        """Names of the per-frame axes of ``data``."""
        return ("mask",) if self.compression.kind == "virtual" else ("ky", "kx")

    @property
    def frame_grid(self) -> FrameGrid:
        """Calibration of stored frames; the raw detector for ``none`` and ``virtual``.

        Binning by b maps pixel centre p to (p + 0.5)/b − 0.5, so k = 0 stays where it is.
        """
        det = self.acquisition.detector
        b = self.compression.bin_factor or 1
        return FrameGrid(
            shape=(det.shape[0] // b, det.shape[1] // b),
            pixel_size_inv_A=det.pixel_size_inv_A * b,
            center_px=((det.center_px[0] + 0.5) / b - 0.5, (det.center_px[1] + 0.5) / b - 0.5),
        )

    def with_state(self, state: DatasetState) -> DatasetMetadata:
        """A copy in ``state``; leaving ``acquiring`` stamps ``finished_utc`` if unset."""
        acq = self.acquisition
        if state is not DatasetState.ACQUIRING and acq.finished_utc is None:
            acq = acq.model_copy(update={"finished_utc": datetime.now(UTC)})
        return self.model_copy(update={"state": state, "acquisition": acq})
