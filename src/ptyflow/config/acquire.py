"""The ``ptyflow acquire`` config: where frames come from, what the scan is, where stores go.

Every option is shown and explained in ``configs/acquire.toml``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, PositiveInt, model_validator

from ptyflow.config._base import PositiveFloat, StrictModel
from ptyflow.config.compress import CompressConfig
from ptyflow.physics import Probe

__all__ = [
    "AcquireConfig",
    "AcquireDetectorConfig",
    "AcquireScanConfig",
    "OutputConfig",
    "ReceiveConfig",
    "StatusConfig",
]

Pair = tuple[PositiveInt, PositiveInt]


class ReceiveConfig(StrictModel):
    """The ZeroMQ connection to the detector and the receive pipeline."""

    endpoint: str = Field(
        "tcp://127.0.0.1:9999", description="the detector's PUSH endpoint (tcp:// or ipc://)"
    )
    protocol: Literal["v1", "v2"] = Field("v1", description="DECTRIS stream version")
    rcvhwm: PositiveInt = Field(4096, description="ZeroMQ receive high-water mark [messages]")
    batch_frames: PositiveInt = Field(256, description="messages per batch handed to a worker")
    decode_workers: PositiveInt = Field(2, description="decode+compress threads")
    max_batches_in_flight: PositiveInt = Field(
        8, description="batches received but not yet written; bounds memory (then backpressure)"
    )
    verify_hash: bool = Field(True, description="check each v1 blob's MD5 against its header")
    series_timeout_s: PositiveFloat = Field(
        30.0,
        description="close a series as incomplete after this long without a message once "
        "its frames have begun [s]",
    )


class AcquireScanConfig(StrictModel):
    """The scan: its shape comes from here or from the series header's user data."""

    shape: Pair | None = Field(None, description="(ny, nx); None: from the series header")
    step_A: tuple[PositiveFloat, PositiveFloat] = Field(description="(sy, sx) step [Å]")
    rotation_deg: float = Field(0.0, allow_inf_nan=False, description="scan rotation [deg]")
    n_time: PositiveInt | None = Field(
        None, description="scans per in-situ series; None: images announced / scan size"
    )
    time_step_s: PositiveFloat | None = Field(None, description="time between scans [s]")


class AcquireDetectorConfig(StrictModel):
    """Calibration of the detector (its shape and depth come from the stream)."""

    pixel_size_inv_A: PositiveFloat = Field(description="reciprocal sampling [1/Å per pixel]")
    center_px: tuple[float, float] | None = Field(
        None, description="(cy, cx) pixel of k = 0; None: (n//2, n//2)"
    )
    name: str = Field("DECTRIS", min_length=1, description="used if the header has no name")


class OutputConfig(StrictModel):
    """Where and how the stores are written."""

    directory: Path = Field(description="one store per series is written here")
    prefix: str = Field("series", min_length=1, description="store name: PREFIX-SERIES.zarr")
    write: bool = Field(
        True, description="false: receive, decode and compress only (a link or speed test)"
    )
    shard_nav: Pair | Literal["auto"] = Field(
        "auto",
        description="scan positions per shard file (y, x); auto: 16 rows × as many columns "
        "(a power of two, 16 to 1024) as hold ~4 MiB of output frames",
    )
    chunk_nav: Pair | Literal["auto"] = Field(
        "auto",
        description="scan positions per compressed chunk (y, x); auto: a quarter of the "
        "shard each way (a sixteenth of it, ~256 KiB)",
    )
    codec: Literal["lz4", "zstd"] = Field(
        "lz4",
        description="Blosc codec of data, with bitshuffle: lz4 keeps up with the detector, "
        "zstd (level 1) writes ~1.7× smaller files at a third of the speed",
    )


class StatusConfig(StrictModel):
    """The HTTP status endpoint and the terminal progress line."""

    enabled: bool = Field(True, description="serve JSON metrics and a live PNG over HTTP")
    host: str = Field("127.0.0.1", description="address to serve on (loopback by default)")
    port: int = Field(0, ge=0, le=65535, description="port; 0: a free one, see the status file")
    progress: Literal["auto", "on", "off"] = Field(
        "auto", description="progress line on the terminal: auto = when interactive"
    )
    log_interval_s: PositiveFloat = Field(
        5.0, description="bad messages of one reason are logged at most once per interval [s]"
    )


class AcquireConfig(StrictModel):
    """``ptyflow acquire``: receive a DECTRIS stream and write one store per series."""

    receive: ReceiveConfig = Field(default_factory=ReceiveConfig)
    beam: Probe
    scan: AcquireScanConfig
    detector: AcquireDetectorConfig
    compress: CompressConfig = Field(default_factory=CompressConfig)

    @model_validator(mode="after")
    def _center_known_live(self) -> AcquireConfig:
        if self.compress.center == "measure":
            raise ValueError(
                '[compress].center = "measure" needs the whole scan; live, give '
                "[detector].center_px (or leave it at the detector centre)"
            )
        return self

    output: OutputConfig
    status: StatusConfig = Field(default_factory=StatusConfig)
