"""Ptychographic reconstruction with PyTorch autodiff: single-slice, multislice,
mixed-state probes, probe, aberration and position refinement, from pixelated, binned or
virtual-detector stores, each fitted in its measured domain. Uses ``ptyflow.physics`` for
every physical convention (its forward model is the simulator's) and reads stores only
through ``ptyflow.dataset``. Results go into a result store (``docs/result-store.md``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ptyflow.reconstruct._result import (
    RESULT_SCHEMA,
    RESULT_SCHEMA_VERSION,
    Result,
    ResultMetadata,
    is_result_store,
    open_result,
    write_result,
)

if TYPE_CHECKING:
    from ptyflow.reconstruct._engine import ReconstructionRun, run_reconstruction
    from ptyflow.reconstruct._geometry import estimate_rotation_deg

# Imported on first use: they import torch, which reading a result (``ptyflow info``,
# ``ptyflow score``) never needs.
_ENGINE = {
    "ReconstructionRun": "_engine",
    "run_reconstruction": "_engine",
    "estimate_rotation_deg": "_geometry",
}


def __getattr__(name: str) -> Any:
    if name in _ENGINE:
        import importlib

        return getattr(importlib.import_module(f"ptyflow.reconstruct.{_ENGINE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "RESULT_SCHEMA",
    "RESULT_SCHEMA_VERSION",
    "ReconstructionRun",
    "Result",
    "ResultMetadata",
    "estimate_rotation_deg",
    "is_result_store",
    "open_result",
    "run_reconstruction",
    "write_result",
]
