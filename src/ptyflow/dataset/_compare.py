"""Comparing two stores made by the same step from the same inputs (``provenance rerun``)."""

from __future__ import annotations

from pathlib import Path

from ptyflow.dataset._group import GROUP_JSON
from ptyflow.dataset._layout import ATTRS_KEY
from ptyflow.provenance import FileComparison, compare_trees, json_without

__all__ = ["compare_stores"]

#: The only bytes of a store that legitimately differ between two identical runs: when.
_WHEN = json_without(
    ("attributes", ATTRS_KEY, "acquisition", "started_utc"),
    ("attributes", ATTRS_KEY, "acquisition", "finished_utc"),
)


def compare_stores(original: Path, new: Path) -> list[FileComparison]:
    """File-by-file comparison; the group's ``zarr.json`` may differ in its timestamps only."""
    return compare_trees(original, new, normalise={GROUP_JSON: _WHEN})
