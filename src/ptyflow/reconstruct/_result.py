"""The result store (spec: ``docs/result-store.md``): what a reconstruction leaves behind.

One Zarr v3 group: ``object`` (n_slices, ny, nx) complex64, ``probe`` (n_modes, ky, kx)
complex64, ``positions_A`` (n, 2) float64 refined probe positions, ``loss`` (n_iter,) float64,
group attribute ``ptyflow`` (:class:`ResultMetadata`), then the provenance record and the
manifest, written last (``seal_directory``: every file fsynced first). Written into a temp
directory and renamed into place, so a crash, even a power cut, never leaves half a result
under the final name.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import zarr
from numpy.typing import NDArray
from pydantic import ConfigDict, Field, ValidationError

from ptyflow._files import partial_path, replace_directory
from ptyflow._models import FiniteFloat, PositiveFloat, StrictModel
from ptyflow.errors import ResultError
from ptyflow.provenance import ProvenanceRecord, seal_directory

__all__ = [
    "RESULT_SCHEMA",
    "RESULT_SCHEMA_VERSION",
    "Result",
    "ResultMetadata",
    "is_result_store",
    "open_result",
    "write_result",
]

RESULT_SCHEMA = "ptyflow.result"
RESULT_SCHEMA_VERSION = 1
_ATTRS = "ptyflow"
_ARRAYS: dict[str, tuple[str, tuple[str, ...], str]] = {
    # name: (dtype, dimension names, units)
    "object": ("complex64", ("slice", "y", "x"), "transmission (complex)"),
    "probe": ("complex64", ("mode", "y", "x"), "amplitude, sum |psi|^2 = 1 per unit intensity"),
    "positions_A": ("float64", ("position", "yx"), "Å"),
    "loss": ("float64", ("iteration",), "loss"),
}


class ResultMetadata(StrictModel):
    """The ``ptyflow`` attribute of a result group (units in every name)."""

    schema_id: Literal["ptyflow.result"] = Field("ptyflow.result", alias="schema")
    schema_version: int = RESULT_SCHEMA_VERSION
    state: Literal["complete", "checkpoint"] = "complete"
    pixel_size_A: tuple[PositiveFloat, PositiveFloat]
    origin_A: tuple[FiniteFloat, FiniteFloat]
    n_slices: int = Field(ge=1)
    slice_thickness_A: FiniteFloat = Field(ge=0.0)
    energy_eV: PositiveFloat
    config: dict[str, Any]
    dataset_content_hash: str
    iterations: int = Field(ge=0)

    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_default=True, populate_by_name=True
    )


@dataclass(frozen=True)
class Result:
    """A reconstruction read back from its store (see :func:`open_result`).

    ``origin_A`` (y, x) is the scan-frame position [Å] of the centre of object pixel (0, 0);
    ``positions_A`` are in the same frame, so pixel (i, j) sits at origin + (i·py, j·px).
    """

    path: Path
    object: NDArray[np.complex64]
    probe: NDArray[np.complex64]
    positions_A: NDArray[np.float64]
    loss: NDArray[np.float64]
    metadata: ResultMetadata

    @property
    def pixel_size_A(self) -> tuple[float, float]:
        return self.metadata.pixel_size_A

    @property
    def origin_A(self) -> tuple[float, float]:
        return self.metadata.origin_A

    @property
    def phase(self) -> NDArray[np.float32]:
        """The object phase summed over slices (y, x) [rad], unwrapped along z only."""
        return np.angle(self.object).sum(axis=0).astype(np.float32)


def write_result(
    path: str | Path,
    metadata: ResultMetadata,
    arrays: dict[str, NDArray[Any]],
    record: ProvenanceRecord | None,
    *,
    overwrite: bool = False,
    extra: Callable[[Path], None] | None = None,
) -> str:
    """Write a complete result store at ``path``; return its content hash.

    ``arrays`` holds ``object``, ``probe``, ``positions_A`` and ``loss``. Refuses to replace
    anything but an earlier result store (and that only with ``overwrite``). ``extra``
    writes more files (figures) into the store's folder before it is checksummed.
    """
    path = Path(path)
    check_target(path, overwrite)
    _check_arrays(path, arrays)
    tmp = partial_path(path)
    try:
        group = zarr.open_group(tmp, mode="w", zarr_format=3)
        group.attrs[_ATTRS] = metadata.model_dump(mode="json", by_alias=True)
        for name, (dtype, dims, units) in _ARRAYS.items():
            value = np.asarray(arrays[name], dtype=dtype)
            arr = group.create_array(
                name, shape=value.shape, dtype=dtype, dimension_names=dims, chunks=value.shape
            )
            arr[...] = value
            arr.attrs[_ATTRS] = {"units": units, "axes": list(dims)}
        if extra is not None:
            extra(tmp)
        digest = seal_directory(tmp, record, path)  # every file fsynced before the manifest
        replace_directory(tmp, path)  # the rename made durable before the old result goes
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return digest


def check_target(path: Path, overwrite: bool) -> None:
    """Raise :class:`ResultError` unless ``path`` is free, or an earlier result store that
    ``overwrite`` allows replacing (checked before a run starts, and again on writing)."""
    if not path.exists():
        return
    if not overwrite:
        raise ResultError(f"{path}: exists; pass overwrite=True (--overwrite) to replace it")
    try:
        _read_metadata(path)
    except ResultError:
        msg = f"{path}: exists and is not a ptyflow result store; not replacing it"
        raise ResultError(msg) from None


def _check_arrays(path: Path, arrays: dict[str, NDArray[Any]]) -> None:
    missing = set(_ARRAYS) - set(arrays)
    if missing:
        raise ResultError(f"{path}: result arrays missing: {', '.join(sorted(missing))}")
    for name in ("object", "probe"):
        if np.ndim(arrays[name]) != 3:
            raise ResultError(f"{path}: '{name}' must be 3-D, got shape {np.shape(arrays[name])}")
    if np.ndim(arrays["positions_A"]) != 2 or np.shape(arrays["positions_A"])[1] != 2:
        raise ResultError(
            f"{path}: 'positions_A' must be (n, 2), got {np.shape(arrays['positions_A'])}"
        )


def _read_metadata(path: Path) -> ResultMetadata:
    source = path / "zarr.json"
    try:
        doc = json.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultError(f"{path}: not a result store (no zarr.json)") from None
    except (OSError, ValueError) as err:
        raise ResultError(f"{source}: cannot read: {err}") from None
    attrs = (doc.get("attributes") or {}).get(_ATTRS) if isinstance(doc, dict) else None
    if not isinstance(attrs, dict) or attrs.get("schema") != RESULT_SCHEMA:
        raise ResultError(f"{source}: not a ptyflow result store (no {_ATTRS}.schema)")
    if attrs.get("schema_version") != RESULT_SCHEMA_VERSION:
        raise ResultError(
            f"{source}: result schema_version {attrs.get('schema_version')!r}; this ptyflow "
            f"reads version {RESULT_SCHEMA_VERSION}"
        )
    try:
        return ResultMetadata.model_validate_json(json.dumps(attrs))  # JSON: arrays are tuples
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
        raise ResultError(f"{source}: invalid {_ATTRS} attribute: {problems}") from None


def is_result_store(path: str | Path) -> bool:
    """True if ``path`` is a directory whose group declares the result schema."""
    try:
        _read_metadata(Path(path))
    except ResultError:
        return False
    return True


def open_result(path: str | Path) -> Result:
    """Read a result store. Raises :class:`~ptyflow.errors.ResultError` naming what is wrong."""
    path = Path(path)
    if not path.is_dir():
        raise ResultError(f"no result store at {path}")
    metadata = _read_metadata(path)
    group = zarr.open_group(path, mode="r", zarr_format=3)
    arrays: dict[str, NDArray[Any]] = {}
    for name, (dtype, dims, _) in _ARRAYS.items():
        if name not in group:
            raise ResultError(f"{path}: array '{name}' missing")
        arr = group[name]
        if not isinstance(arr, zarr.Array) or str(arr.dtype) != dtype or arr.ndim != len(dims):
            raise ResultError(f"{path / name}: expected a {len(dims)}-D {dtype} array")
        try:
            arrays[name] = np.asarray(arr[...])
        except Exception as err:
            raise ResultError(f"{path / name}: cannot read (damaged chunk?): {err}") from None
    if arrays["object"].shape[0] != metadata.n_slices:
        raise ResultError(
            f"{path / 'object'}: {arrays['object'].shape[0]} slices, metadata says "
            f"n_slices = {metadata.n_slices}"
        )
    return Result(path, metadata=metadata, **arrays)
