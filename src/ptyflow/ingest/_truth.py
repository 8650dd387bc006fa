"""A ground-truth phase imported beside the store, in the format ``ptyflow simulate``
writes (``docs/ground-truth.md``), so ``ptyflow score`` can use it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ptyflow.config.import_ import ImportConfig, TruthImport
from ptyflow.dataset import TRUTH_NAME, write_truth_dir
from ptyflow.errors import ConfigError, DatasetError
from ptyflow.ingest._source import open_array
from ptyflow.physics import scan_positions_A, sigma_rad_per_VA
from ptyflow.provenance import ArtifactRef, artifact_ref, start_record

__all__ = ["TruthArrays", "import_truth", "load_truth"]

#: The truth phase (slice, y, x) [rad] and the raster in its frame (N, 2) [Å].
TruthArrays = tuple[NDArray[np.float32], NDArray[np.float64]]


def _read_phase(spec: TruthImport) -> NDArray[np.float32]:
    array, h5 = open_array(spec.path, spec.dataset, "[truth].dataset")
    try:
        phase = np.asarray(array)
    finally:
        if h5 is not None:
            h5.close()
    if phase.ndim == 2:
        phase = phase[None]
    if phase.ndim != 3 or phase.dtype.kind not in "uif":
        raise DatasetError(
            f"{spec.path}: a truth phase is real, (y, x) or (slice, y, x); got {phase.dtype} "
            f"{phase.shape}"
        )
    if not np.isfinite(phase).all():
        raise DatasetError(f"{spec.path}: the truth phase contains NaN or infinity")
    n = spec.slice_thicknesses_A
    if n is not None and len(n) != phase.shape[0]:
        raise ConfigError(
            f"[truth].slice_thicknesses_A has {len(n)} entries for {phase.shape[0]} slice(s) "
            f"in {spec.path}"
        )
    return phase.astype(np.float32)


def _truth_frame_positions(
    config: ImportConfig, phase_shape: tuple[int, ...]
) -> NDArray[np.float64]:
    """The nominal raster in the truth's frame (pixel (0, 0) centre at (0, 0)); the scan
    must lie on a cropped truth, or the calibration contradicts itself."""
    spec, scan = config.truth, config.scan
    assert spec is not None
    positions = scan_positions_A(scan.shape, scan.step_A, scan.rotation_deg) - spec.origin_A
    extent = (np.asarray(phase_shape[1:]) - 1) * spec.pixel_size_A
    if not spec.periodic and (positions.min() < 0 or np.any(positions.max(axis=0) > extent)):
        lo, hi = positions.min(axis=0), positions.max(axis=0)
        raise ConfigError(
            f"[truth].origin_A = {list(spec.origin_A)} and pixel_size_A = {spec.pixel_size_A:g} "
            f"put the scan at y {lo[0]:.2f} … {hi[0]:.2f} Å, x {lo[1]:.2f} … {hi[1]:.2f} Å of "
            f"the truth image, which spans 0 … {extent[0]:.2f} × 0 … {extent[1]:.2f} Å "
            "(set periodic = true if it is one period of a crystal)"
        )
    return positions


def load_truth(config: ImportConfig) -> TruthArrays:
    """Read and check ``config.truth`` (before any store is written, so a bad truth
    leaves nothing behind)."""
    assert config.truth is not None
    phase = _read_phase(config.truth)
    return phase, _truth_frame_positions(config, phase.shape)


def import_truth(
    config: ImportConfig, arrays: TruthArrays, truth_dir: Path, store: ArtifactRef
) -> Path:
    """Write the truth ``arrays`` of ``config.truth`` into ``truth_dir`` with a record whose
    inputs are the store and the truth file, both by content hash."""
    spec = config.truth
    assert spec is not None
    phase, positions = arrays
    extent = [n * spec.pixel_size_A for n in phase.shape[1:]]
    info = {
        "object_phase.npy": {
            "shape": list(phase.shape),
            "axes": ["slice", "y", "x"],
            "units": "rad",
            "definition": "imported phase, as given (sigma * projected potential per slice)",
            "pixel_size_A": spec.pixel_size_A,
            "origin": "pixel (0, 0) centre is (y, x) = (0, 0) of scan_positions_A",
            "periodic": spec.periodic,
            "specimen_period_yx_A": extent if spec.periodic else None,
            "slice_thicknesses_A": spec.slice_thicknesses_A,
            "source": str(spec.path.resolve()) + (f":{spec.dataset}" if spec.dataset else ""),
        },
        "scan_positions_A.npy": {
            "shape": list(positions.shape),
            "columns": ["y", "x"],
            "units": "A",
            "order": "raster: index = iy * nx + ix",
            "meaning": "the configured raster (an import knows no position errors)",
        },
        "scan_positions_nominal_A.npy": {"meaning": "the raster the store's metadata describes"},
        "energy_eV": config.beam.energy_eV,
        "wavelength_A": config.beam.wavelength_A,
        "sigma_rad_per_VA": sigma_rad_per_VA(config.beam.energy_eV),
    }

    def write_files(tmp: Path) -> None:
        np.save(tmp / "object_phase.npy", phase)
        np.save(tmp / "scan_positions_A.npy", positions)
        np.save(tmp / "scan_positions_nominal_A.npy", positions)
        (tmp / TRUTH_NAME).write_text(json.dumps(info, indent=2), encoding="utf-8")

    record = start_record("import.truth", config=spec, inputs=[store, artifact_ref(spec.path)])
    write_truth_dir(truth_dir, write_files, record)
    return truth_dir
