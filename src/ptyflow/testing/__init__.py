"""Builders for tests and benchmarks: small stores from reference data with known truth."""

from ptyflow.testing._reference import (
    REFERENCE_VARIANTS,
    reference_store,
    score_phase,
    score_reference,
    segmented_masks,
)

__all__ = [
    "REFERENCE_VARIANTS",
    "reference_store",
    "score_phase",
    "score_reference",
    "segmented_masks",
]
