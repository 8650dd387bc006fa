"""Reading and checking a store's group metadata before zarr touches it, then its arrays.

The group's ``zarr.json`` is parsed here by hand first, so that a missing store, corrupt
JSON, a foreign directory, another schema version and invalid metadata each get their own
clear message instead of a zarr or pydantic traceback. Then every array the spec requires
is checked against the metadata (shape, dtype, axes, per-axis calibration). Readers use
this without loading the writer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import zarr
from pydantic import ValidationError

from ptyflow.dataset._integrity import read_json
from ptyflow.dataset._layout import ATTRS_KEY, array_attributes, array_specs, data_dtype_problem
from ptyflow.dataset._metadata import SCHEMA_ID, SCHEMA_VERSION, DatasetMetadata
from ptyflow.errors import DatasetError, SchemaVersionError

__all__ = ["GROUP_JSON", "array_problems", "read_metadata", "store_attrs"]

GROUP_JSON = "zarr.json"


def _format_validation_error(err: ValidationError, source: Path) -> str:
    """One line per problem, each naming the attribute key path (``ptyflow.a.b``)."""
    lines = [f"{source}: invalid metadata in attribute '{ATTRS_KEY}'"]
    for e in err.errors():
        key = ".".join([ATTRS_KEY, *(str(p) for p in e["loc"])])
        got = f" (got {e['input']!r})" if e["type"] != "missing" else ""
        lines.append(f"  {key}: {e['msg']}{got}")
    return "\n".join(lines)


def store_attrs(path: Path) -> dict[str, Any]:
    """The raw ``ptyflow`` attribute of the group at ``path``; DatasetError if there is none."""
    if not path.exists():
        raise DatasetError(f"no store at {path}")
    source = path / GROUP_JSON
    doc = read_json(source) if path.is_dir() else None
    if doc is None:
        raise DatasetError(f"{path}: not a Zarr store (no {GROUP_JSON})")
    if not isinstance(doc, dict) or doc.get("zarr_format") != 3 or doc.get("node_type") != "group":
        raise DatasetError(f"{source}: not a Zarr v3 group")
    attrs = (doc.get("attributes") or {}).get(ATTRS_KEY)
    if not isinstance(attrs, dict) or attrs.get("schema_id") != SCHEMA_ID:
        raise DatasetError(f"{source}: not a ptyflow dataset store (no {ATTRS_KEY}.schema_id)")
    return attrs


def read_metadata(path: Path) -> DatasetMetadata:
    """The validated metadata of the store at ``path``.

    Raises DatasetError for a missing store, corrupt ``zarr.json``, a group that is not a
    ptyflow store, or invalid metadata; SchemaVersionError for another schema version.
    """
    attrs = store_attrs(path)
    version = attrs.get("schema_version")
    if isinstance(version, bool) or version != SCHEMA_VERSION:
        raise SchemaVersionError(
            f"{path / GROUP_JSON}: store has schema version {version!r}; "
            f"this ptyflow supports version {SCHEMA_VERSION} only"
        )
    try:
        return DatasetMetadata.model_validate_json(json.dumps(attrs))
    except ValidationError as err:
        raise DatasetError(_format_validation_error(err, path / GROUP_JSON)) from None


def array_problems(path: Path, group: zarr.Group, metadata: DatasetMetadata) -> list[str]:
    """Every required array that is missing, unreadable, or of the wrong shape/dtype/axes."""
    problems = []
    for name, spec in array_specs(metadata).items():
        try:
            array = group[name]
        except KeyError:
            problems.append(f"{path / name}: required array is missing")
            continue
        except Exception as err:  # a corrupt zarr.json of the array, whatever zarr raises
            problems.append(f"{path / name / 'zarr.json'}: cannot read: {err}")
            continue
        if not isinstance(array, zarr.Array):
            problems.append(f"{path / name}: expected an array, found a group")
            continue
        if array.shape != spec.shape:
            problems.append(f"{path / name}: shape {array.shape}, expected {spec.shape}")
        dtype = np.dtype(array.dtype)
        if spec.dtype is None:
            wrong_dtype = data_dtype_problem(metadata, dtype)
        elif dtype != spec.dtype:
            wrong_dtype = f"dtype {dtype}, expected {spec.dtype}"
        else:
            wrong_dtype = None
        if wrong_dtype:
            problems.append(f"{path / name}: {wrong_dtype}")
        dims = getattr(array.metadata, "dimension_names", None)
        if dims != spec.dims:
            problems.append(f"{path / name}: dimension_names {dims}, expected {spec.dims}")
        # Per-axis calibration must agree with the group metadata it was derived from.
        expected = array_attributes(
            metadata, spec.dims, units=spec.units, description=spec.description
        )[ATTRS_KEY]
        found = array.attrs.get(ATTRS_KEY)
        if _rounded(found) != _rounded(expected):
            problems.append(
                f"{path / name / 'zarr.json'}: attributes.{ATTRS_KEY} {found!r} disagree with "
                f"the group metadata; expected {expected!r}"
            )
    return problems


def _rounded(obj: Any) -> Any:
    """``obj`` with floats rounded to 12 significant digits, for comparing JSON round trips."""
    if isinstance(obj, float):
        return float(f"{obj:.12g}")
    if isinstance(obj, dict):
        return {k: _rounded(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_rounded(v) for v in obj]
    return obj
