"""Reading and checking a store's group metadata before zarr touches it.

The group's ``zarr.json`` is parsed here by hand first, so that a missing store, corrupt
JSON, a foreign directory, another schema version and invalid metadata each get their own
clear message instead of a zarr or pydantic traceback. Readers use this without loading
the writer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ptyflow.dataset._integrity import read_json
from ptyflow.dataset._layout import ATTRS_KEY
from ptyflow.dataset._metadata import SCHEMA_ID, SCHEMA_VERSION, DatasetMetadata
from ptyflow.errors import DatasetError, SchemaVersionError

__all__ = ["GROUP_JSON", "read_metadata", "store_attrs"]

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
