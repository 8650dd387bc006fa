"""Config sections for tests: a base config with some keys overridden."""

from __future__ import annotations

from typing import Any

__all__ = ["merge_sections"]


def merge_sections(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``extra`` merged into its nested sections; a section of another
    ``kind`` (a different union variant) replaces the old one whole."""
    out = dict(base)
    for key, value in extra.items():
        old = out.get(key)
        if isinstance(old, dict) and isinstance(value, dict):
            same_kind = value.get("kind", old.get("kind")) == old.get("kind")
            out[key] = merge_sections(old, value) if same_kind else value
        else:
            out[key] = value
    return out
