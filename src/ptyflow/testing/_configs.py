"""Config helpers for tests: a base config with some keys overridden, and the keys a
config template leaves undocumented."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

__all__ = ["merge_sections", "undocumented_keys"]


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


def undocumented_keys(config: BaseModel, template: str) -> list[str]:
    """The dotted keys of ``config`` (loaded from a template whose text is ``template``),
    and of every section below it, that the template does not show: neither as
    ``key =`` nor as a section header ``[...key]``."""
    missing = []
    for key in type(config).model_fields:
        if not any(form in template for form in (f"{key} =", f"[{key}", f".{key}]")):
            missing.append(key)
        value = getattr(config, key)
        sections = value if isinstance(value, list | tuple) else [value]
        for section in sections:
            if isinstance(section, BaseModel):
                missing += [f"{key}.{sub}" for sub in undocumented_keys(section, template)]
    return missing
