"""Ptychographic reconstruction with PyTorch autodiff: single-slice, multislice,
mixed-state probes, position and probe refinement, from raw, binned or virtual-detector
stores. Uses ``ptyflow.physics`` for every physical convention and reads stores only through
``ptyflow.dataset``. Results go into a result store (``docs/result-store.md``).
"""

from ptyflow.reconstruct._result import (
    RESULT_SCHEMA,
    RESULT_SCHEMA_VERSION,
    Result,
    ResultMetadata,
    is_result_store,
    open_result,
    write_result,
)

__all__ = [
    "RESULT_SCHEMA",
    "RESULT_SCHEMA_VERSION",
    "Result",
    "ResultMetadata",
    "is_result_store",
    "open_result",
    "write_result",
]
