"""Typed, strict config models and the TOML loader that turns mistakes into clear errors."""

from __future__ import annotations

import copy
import difflib
import tomllib
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ptyflow._models import FiniteFloat, PositiveFloat, StrictModel
from ptyflow.errors import ConfigError

__all__ = [
    "FiniteFloat",
    "PositiveFloat",
    "StrictModel",
    "apply_overrides",
    "format_validation_error",
    "load_toml",
    "validate_config",
]

M = TypeVar("M", bound=BaseModel)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The models an annotation can hold: through Optional, unions, tuples, lists, Annotated."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def _locate(model: type[BaseModel], loc: tuple[int | str, ...]) -> tuple[str, list[str]]:
    """An error location as users write it, and the keys allowed where it points.

    ``("specimen", "crystal", "defects", 0, "vacancy", "layer")`` becomes
    ``[specimen.defects[0]].layer``: pydantic's locations also name the chosen variant of a
    tagged union, which is not a key anyone typed, so it narrows the candidate models and
    is left out. An error about a whole variant (its model validator) names the section.
    """
    candidates, where, allowed = [model], "", list(model.model_fields)
    label, whole_section = "", False
    for part in loc:
        whole_section = False
        if isinstance(part, int):
            label += f"[{part}]"
            continue
        tagged = [m for m in candidates if part in typing.get_args(_tag_annotation(m))]
        if len(candidates) > 1 and tagged:  # the tag of a discriminated union: a variant
            candidates, whole_section = tagged, True
            allowed = list(dict.fromkeys(k for m in candidates for k in m.model_fields))
            continue
        if label:  # the previous key was a section: descend into it
            where = f"{where}.{label}" if where else label
        label = part
        owners = [m for m in candidates if part in m.model_fields]
        allowed = list(dict.fromkeys(k for m in candidates for k in m.model_fields))
        candidates = _models_in(owners[0].model_fields[part].annotation) if owners else []
    if not label:
        return "<root>", allowed
    if whole_section:
        return f"[{where}.{label}]" if where else f"[{label}]", allowed
    return (f"[{where}].{label}" if where else label), allowed


def _tag_annotation(model: type[BaseModel]) -> Any:
    """The annotation of a model's ``kind`` tag (a Literal), or None."""
    field = model.model_fields.get("kind")
    return field.annotation if field is not None else None


def _unit_note(key: str, hint: str) -> str:
    """A reminder when two keys differ only in their unit suffix (``energy_keV``/``energy_eV``)."""
    stem, sep, unit = key.rpartition("_")
    same_quantity = bool(sep) and hint.startswith(stem + "_") and hint != key
    return " units are part of key names" if same_quantity and unit else ""


def format_validation_error(err: ValidationError, model: type[BaseModel], source: str) -> str:
    """One line per problem: ``source: [section].key: what is wrong (got ...)``."""
    lines = [f"{source}: invalid {model.__name__} ({err.error_count()} problem(s))"]
    for e in err.errors():
        loc = tuple(e["loc"])
        key, allowed = _locate(model, loc)
        if e["type"] == "extra_forbidden":
            typed = str(loc[-1])
            hint = difflib.get_close_matches(typed, allowed, n=1)
            msg = f"unknown key; expected one of {', '.join(allowed)}"
            if hint:
                msg += f" (did you mean {hint[0]!r}?{_unit_note(typed, hint[0])})"
        else:
            msg = e["msg"]
            # A whole section as "got" would bury the message; scalars help.
            if e["type"] != "missing" and not isinstance(e.get("input"), dict | list):
                msg += f" (got {e.get('input')!r})"
        lines.append(f"  {source}: {key}: {msg}")
    return "\n".join(lines)


def validate_config(data: dict[str, Any], model: type[M], source: str = "<config>") -> M:
    """Validate a plain mapping into ``model``; raise :class:`ConfigError` naming every problem."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, model, source)) from None


def apply_overrides(data: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Apply ``section.key=value`` overrides (values in TOML syntax; bare words are strings)."""
    out = copy.deepcopy(data)
    for item in overrides:
        dotted, sep, raw = item.partition("=")
        if not sep or not dotted.strip():
            raise ConfigError(f"override {item!r}: expected KEY=VALUE, e.g. scan.step_A=0.4")
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
        *sections, key = dotted.strip().split(".")
        node = out
        for section in sections:
            child = node.setdefault(section, {})
            if not isinstance(child, dict):
                raise ConfigError(f"override {item!r}: {section!r} is a value, not a section")
            node = child
        node[key] = value
    return out


def load_toml(path: str | Path, model: type[M], overrides: Sequence[str] = ()) -> M:
    """Read a TOML file, apply ``overrides`` (``section.key=value``) and validate into ``model``.

    Errors name the file, the key and what was expected; nothing is silently ignored.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read config file: {err}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from None
    return validate_config(apply_overrides(data, overrides), model, str(path))
