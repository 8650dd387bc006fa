"""The strict pydantic base and constrained number types shared by configs and metadata.

A leaf module: ``config``, ``physics`` and ``dataset`` all build on it, and it imports
nothing of ptyflow, so the package graph stays one-way.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["FiniteFloat", "PositiveFloat", "StrictModel"]

#: A finite float: inf and nan are nonsense for every physical quantity in a config.
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
#: A strictly positive, finite float.
PositiveFloat = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]


class StrictModel(BaseModel):
    """Base of every config and metadata model: unknown keys fail, values are frozen."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_default=True, strict=True, allow_inf_nan=False
    )
