"""Ground truth beside a store (``S.truth/`` for ``S.zarr``): written by ``ptyflow simulate``
and ``ptyflow import``, read by ``ptyflow score``. Format: ``docs/ground-truth.md``."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ptyflow._files import partial_path, rename_durably
from ptyflow.errors import DatasetError
from ptyflow.provenance import (
    ProvenanceRecord,
    seal_directory,
)

__all__ = [
    "TRUTH_NAME",
    "GroundTruth",
    "check_truth_dir",
    "read_truth",
    "truth_path",
    "write_truth_dir",
]

#: The file inside the ground-truth directory that describes it.
TRUTH_NAME = "truth.json"
_PHASE = "object_phase.npy"
_POSITIONS = "scan_positions_A.npy"
_NOMINAL = "scan_positions_nominal_A.npy"


def truth_path(store: str | Path) -> Path:
    """The ground-truth directory of a store: ``sample.zarr`` → ``sample.truth``.

    Raises DatasetError for a path that cannot name a new store (``.``, ``/``, ``..``) or
    that is a ground-truth path itself.
    """
    store = Path(store)
    if store.name in ("", ".", ".."):
        raise DatasetError(f"{store}: not a name for a new store; give one, e.g. sample.zarr")
    if store.suffix == ".truth":
        raise DatasetError(
            f"{store}: ends in .truth, the suffix of ground-truth directories (a store "
            f"{store.stem}.zarr has its truth in {store.name}); choose another name"
        )
    return store.with_suffix(".truth")


def check_truth_dir(path: Path, overwrite: bool) -> None:
    """Refuse to clobber anything but an earlier ground truth, and that only with ``overwrite``.

    Call before making the store; the old truth is only removed once the new store exists.
    """
    if not path.exists():
        return
    if not overwrite:
        raise DatasetError(
            f"{path}: ground truth exists; pass overwrite=True (--overwrite) to replace it"
        )
    if not (path / TRUTH_NAME).is_file():
        raise DatasetError(f"{path}: exists and is not a ptyflow ground truth; not replacing it")


def write_truth_dir(
    path: Path,
    write_files: Callable[[Path], None],
    record: ProvenanceRecord,
    *,
    into_place: bool = True,
) -> Path:
    """Have ``write_files`` fill a temp directory, seal it (manifest and the finished
    ``record`` naming ``path``, as a store), then rename it to ``path``: a crash leaves no
    half-written truth that would block the next run. With ``into_place=False`` the sealed
    temp directory is returned for the caller to swap in (with its store); an OSError
    (disk full) becomes a DatasetError naming ``path``, and nothing is left behind."""
    tmp = partial_path(path)
    tmp.mkdir(parents=True)
    try:
        write_files(tmp)
        seal_directory(tmp, record, path)  # manifest and record, like a store
        if not into_place:
            return tmp
        rename_durably(tmp, path)
        return path
    except BaseException as err:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(err, OSError):
            raise DatasetError(f"{path}: cannot write the ground truth: {err}") from err
        raise


@dataclass(frozen=True)
class GroundTruth:
    """A ground truth in the scan frame of its store (scan centre at (0, 0), positions as
    ``ptyflow.physics.scan_positions_A``), the frame result stores use too.

    ``phase`` (n_slices, ny, nx) [rad] is σ·v per slice; pixel (i, j) has its centre at
    ``origin_A + (i, j)·pixel_size_A``. ``periodic``: the array is exactly one period of the
    specimen (sampling may wrap), else a crop (sampling stays inside it).
    """

    path: Path
    phase: NDArray[np.float32]
    pixel_size_A: float
    origin_A: tuple[float, float]
    periodic: bool
    positions_A: NDArray[np.float64]  # (N, 2) where the probe really was, scan frame
    nominal_positions_A: NDArray[np.float64]  # (N, 2) the raster the store describes

    @property
    def projected_phase(self) -> NDArray[np.float64]:
        """Phase summed over the slices [rad], (ny, nx)."""
        return np.asarray(self.phase, dtype=np.float64).sum(axis=0)


def _load(path: Path, name: str) -> NDArray[Any]:
    try:
        return np.load(path / name)
    except FileNotFoundError:
        raise DatasetError(f"{path / name}: missing from the ground truth") from None
    except (OSError, ValueError) as err:
        raise DatasetError(f"{path / name}: cannot read: {err}") from None


def read_truth(path: str | Path) -> GroundTruth:
    """Read a ground-truth directory; DatasetError naming the file and key at fault."""
    path = Path(path)
    if not (path / TRUTH_NAME).is_file():
        raise DatasetError(f"{path}: not a ground-truth directory (no {TRUTH_NAME})")
    try:
        doc = json.loads((path / TRUTH_NAME).read_text(encoding="utf-8"))
        info = doc[_PHASE]
        pixel = float(info["pixel_size_A"])
        period = info.get("specimen_period_yx_A")
        declared_periodic = bool(info.get("periodic", False))
    except (ValueError, KeyError, TypeError) as err:
        raise DatasetError(f"{path / TRUTH_NAME}: invalid ({type(err).__name__}: {err})") from None
    phase = _load(path, _PHASE)
    if phase.ndim != 3 or not np.issubdtype(phase.dtype, np.floating):
        raise DatasetError(
            f"{path / _PHASE}: expected a float array (slice, y, x), got {phase.dtype} "
            f"{phase.shape}"
        )
    if not np.isfinite(phase).all():
        raise DatasetError(f"{path / _PHASE}: contains NaN or infinity")
    nominal = _load(path, _NOMINAL).astype(np.float64)
    positions = _load(path, _POSITIONS).astype(np.float64)
    if nominal.ndim != 2 or nominal.shape[1] != 2 or positions.shape != nominal.shape:
        raise DatasetError(
            f"{path}: {_POSITIONS} {positions.shape} and {_NOMINAL} {nominal.shape} must both "
            "be (N, 2) (y, x) positions"
        )
    # The raster is symmetric about the scan centre, so its mean is the centre: the
    # scan-frame origin in the truth's own frame.
    centre = nominal.mean(axis=0)
    extent = np.asarray(phase.shape[1:]) * pixel
    periodic = (
        declared_periodic
        and period is not None
        and bool(np.allclose(np.asarray(period, dtype=float), extent, rtol=1e-6))
    )
    return GroundTruth(
        path=path,
        phase=phase,
        pixel_size_A=pixel,
        origin_A=(float(-centre[0]), float(-centre[1])),
        periodic=periodic,
        positions_A=positions - centre,
        nominal_positions_A=nominal - centre,
    )
