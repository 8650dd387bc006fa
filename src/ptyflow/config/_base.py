"""Typed, strict config models and the TOML loader that turns mistakes into clear errors."""

from __future__ import annotations

import copy
import difflib
import json
import tomllib
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError, ValidationInfo

from ptyflow._models import FiniteFloat, PositiveFloat, StrictModel
from ptyflow.errors import ConfigError

__all__ = [
    "FiniteFloat",
    "PositiveFloat",
    "StrictModel",
    "apply_overrides",
    "existing_file_near_config",
    "format_validation_error",
    "load_toml",
    "relative_to_config",
    "validate_config",
]

M = TypeVar("M", bound=BaseModel)


def _config_dir(info: ValidationInfo) -> Path:
    return Path((info.context or {}).get("config_dir") or Path.cwd())


def relative_to_config(path: Path, info: ValidationInfo) -> Path:
    """A path from a config, absolute: a relative one is relative to the config file's
    directory (``validate_config``'s ``config_dir``), so a config works from anywhere."""
    return (_config_dir(info) / path.expanduser()).resolve()


def existing_file_near_config(path: Path, info: ValidationInfo, what: str) -> Path:
    """``relative_to_config``, then ValueError naming ``what`` unless it is a file."""
    resolved = relative_to_config(path, info)
    if not resolved.is_file():
        raise ValueError(
            f"{what} {str(path)!r} not found at {resolved} (a relative path is "
            f"relative to the config file's directory {_config_dir(info)})"
        )
    return resolved


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


def _override_keys(item: str) -> tuple[list[str], str]:
    """``section.key=value`` split into its keys and raw value; ConfigError naming ``--set``."""
    dotted, sep, raw = item.partition("=")
    keys = [k.strip() for k in dotted.split(".")]
    if not sep or not all(keys):
        raise ConfigError(
            f"--set {item}: expected KEY=VALUE, KEY dotted with no empty part, e.g. "
            "--set scan.step_A=[0.4,0.4]"
        )
    return keys, raw


def _set_by(overrides: Sequence[str], loc: tuple[int | str, ...]) -> str | None:
    """The override that set the value at ``loc``, or None if the file did.

    A tagged union's variant name in ``loc`` is no key anyone typed, so keys may skip it.
    """
    typed = [p for p in loc if isinstance(p, str)]
    for item in reversed(overrides):  # the last override of a key wins
        keys, _ = _override_keys(item)
        rest = iter(typed[1:])
        if typed[:1] == keys[:1] and all(k in rest for k in keys[1:]):
            return item
    return None


def format_validation_error(
    err: ValidationError, model: type[BaseModel], source: str, overrides: Sequence[str] = ()
) -> str:
    """One line per problem: ``source: [section].key: what is wrong (got ...)``.

    A problem in a value given by an override names ``--set KEY=VALUE`` instead of ``source``.
    """
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
        item = _set_by(overrides, loc)
        lines.append(f"  {f'--set {item}' if item else source}: {key}: {msg}")
    return "\n".join(lines)


def validate_config(
    data: dict[str, Any],
    model: type[M],
    source: str = "<config>",
    *,
    overrides: Sequence[str] = (),
    config_dir: Path | None = None,
) -> M:
    """Validate a plain mapping (as read from TOML) into ``model``, strictly.

    A string is not a number, ``"off"`` is not a boolean: the mapping is validated as the
    JSON document it is (where an array is a tuple), under the models' strict mode.
    ``config_dir`` is where relative paths in it are resolved (default: the working
    directory). Raises :class:`ConfigError` naming every problem, and for values from
    ``overrides`` the override rather than ``source``.
    """
    context = {"config_dir": config_dir or Path.cwd()}
    try:  # default=str: a TOML date is text to these models
        return model.model_validate_json(json.dumps(data, default=str), context=context)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, model, source, overrides)) from None


def apply_overrides(data: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Apply ``section.key=value`` overrides (values in TOML syntax; bare words are strings)."""
    out = copy.deepcopy(data)
    for item in overrides:
        keys, raw = _override_keys(item)
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError as err:
            if raw.strip()[:1] in ("[", "{", '"', "'"):  # meant as TOML, not a bare word
                raise ConfigError(f"--set {item}: value is not valid TOML: {err}") from None
            value = raw
        *sections, key = keys
        node = out
        for section in sections:
            child = node.setdefault(section, {})
            if not isinstance(child, dict):
                raise ConfigError(f"--set {item}: {section!r} is a value, not a section")
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
    return validate_config(
        apply_overrides(data, overrides),
        model,
        str(path),
        overrides=overrides,
        config_dir=path.resolve().parent,
    )
