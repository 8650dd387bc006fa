"""The ``[compress]`` config: what to keep of each frame, shared by ``ptyflow compress`` and
the acquisition daemon (a ``[compress]`` section of its config).

Every option is shown and explained in ``configs/compress.toml``. Angles are in mrad, or
as fractions of the bright-field disk radius α/λ (``*_bf``); never in detector pixels.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    Field,
    NonNegativeFloat,
    PositiveInt,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ptyflow._models import FiniteFloat, PositiveFloat, StrictModel
from ptyflow.config._base import existing_file_near_config

__all__ = [
    "AnnularDetector",
    "BinConfig",
    "CompressCommandConfig",
    "CompressConfig",
    "CustomMasks",
    "DPCDetector",
    "DetectorPreset",
    "RingsDetector",
    "SegmentsDetector",
    "VirtualConfig",
]

Edges = tuple[NonNegativeFloat, ...]


class AnnularDetector(StrictModel):
    """One annulus: ``bf`` (default 0 … α), ``abf`` (default α/2 … α), ``adf``, ``haadf``.

    ``adf`` and ``haadf`` need ``inner_mrad``; an outer angle left out means out to the
    detector's edge (corners included).
    """

    kind: Literal["bf", "abf", "adf", "haadf"]
    name: str | None = Field(None, min_length=1, description="mask name; default: the kind")
    inner_mrad: NonNegativeFloat | None = Field(None, description="inner angle [mrad]")
    outer_mrad: PositiveFloat | None = Field(None, description="outer angle [mrad]")

    @model_validator(mode="after")
    def _angles(self) -> AnnularDetector:
        if self.kind in ("adf", "haadf") and self.inner_mrad is None:
            raise ValueError(f"a {self.kind} detector needs inner_mrad")
        inner, outer = self.inner_mrad, self.outer_mrad
        if inner is not None and outer is not None and outer <= inner:
            raise ValueError(f"outer_mrad {outer} must exceed inner_mrad {inner}")
        return self


class _RingEdges(StrictModel):
    edges_mrad: Edges | None = Field(None, description="ring edges [mrad], increasing")
    edges_bf: Edges | None = Field(
        None, description="ring edges as fractions of the bright-field radius α/λ, increasing"
    )

    @model_validator(mode="after")
    def _one_edge_list(self) -> _RingEdges:
        given = [e for e in (self.edges_mrad, self.edges_bf) if e is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of edges_mrad and edges_bf")
        edges = given[0]
        if len(edges) < 2 or any(b <= a for a, b in itertools.pairwise(edges)):
            raise ValueError(f"edges must be ≥ 2 strictly increasing values, got {list(edges)}")
        return self


class RingsDetector(_RingEdges):
    """Concentric annuli between consecutive edges: masks ``<name>0``, ``<name>1``, …"""

    kind: Literal["rings"]
    name: str = Field("ring", min_length=1)


class SegmentsDetector(_RingEdges):
    """Rings × ``n_segments`` angular segments: masks ``<name>_r<ring>_s<segment>``.

    Segment 0 starts at ``rotation_deg`` from +kx towards +ky (detector axes).
    """

    kind: Literal["segments"]
    name: str = Field("seg", min_length=1)
    n_segments: PositiveInt = 8
    rotation_deg: FiniteFloat = 0.0


class DPCDetector(StrictModel):
    """Four quadrants of a disk or annulus (differential phase contrast): ``<name>_q0…q3``."""

    kind: Literal["dpc"]
    name: str = Field("dpc", min_length=1)
    inner_mrad: NonNegativeFloat = 0.0
    outer_mrad: PositiveFloat | None = Field(None, description="[mrad]; default: α")
    rotation_deg: FiniteFloat = 0.0


class CustomMasks(StrictModel):
    """Masks from an ``.npy`` file ``(n_masks, ky, kx)`` on the raw detector: ``<name>0…``."""

    kind: Literal["custom"]
    name: str = Field("custom", min_length=1)
    path: Path = Field(
        strict=False,  # a path is written as a string
        description="the .npy file; a relative path is relative to the config file",
    )

    @field_validator("path")
    @classmethod
    def _resolved(cls, path: Path, info: ValidationInfo) -> Path:
        return existing_file_near_config(path, info, "mask file")


DetectorPreset = Annotated[
    AnnularDetector | RingsDetector | SegmentsDetector | DPCDetector | CustomMasks,
    Field(discriminator="kind"),
]

#: The default for ptychography from virtual detectors: 4 rings × 8 segments to 2 α.
_DEFAULT_SEGMENTS = SegmentsDetector(kind="segments", edges_bf=(0.0, 0.5, 1.0, 1.5, 2.0))


class BinConfig(StrictModel):
    """``kind = "bin"``: sum ``factor`` × ``factor`` pixel blocks."""

    factor: int = Field(2, ge=2, description="block side [pixels]; must divide both sides")
    dtype: Literal["auto", "uint32"] = Field(
        "auto", description="auto: smallest unsigned type that cannot overflow"
    )


class VirtualConfig(StrictModel):
    """``kind = "virtual"``: one signal per mask and frame."""

    detectors: tuple[DetectorPreset, ...] = Field((_DEFAULT_SEGMENTS,), min_length=1)
    include_live: bool = Field(
        False, description="also store the five live-image weight maps as masks"
    )
    path: Literal["auto", "label", "dense"] = Field(
        "auto", description="label: disjoint 0/1 masks; dense: any weights (matrix product)"
    )


class CompressConfig(StrictModel):
    """The ``[compress]`` section: what to keep of each frame."""

    kind: Literal["none", "bin", "virtual"] = "bin"
    center: Literal["metadata", "measure"] = Field(
        "metadata", description="k = 0 from the metadata, or measured from the bright-field disk"
    )
    batch_frames: PositiveInt = Field(256, description="frames per kernel call")
    bin: BinConfig = Field(default_factory=BinConfig)
    virtual: VirtualConfig = Field(default_factory=VirtualConfig)


class CompressCommandConfig(StrictModel):
    """The file ``ptyflow compress --config`` reads: a ``[compress]`` section."""

    compress: CompressConfig = Field(default_factory=CompressConfig)
