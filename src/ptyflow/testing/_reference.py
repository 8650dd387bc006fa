"""Bring the shared abTEM SrTiO3 reference dataset (``../shared/data/srtio3``) into a store.

Until ``ptyflow import`` exists for every case this is how tests and benchmarks reconstruct
it; the variants are the raw noisy frames, the noise-free ones, the 2×2-binned noisy frames,
and virtual-detector signals computed from the noisy frames with given masks.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from ptyflow.dataset import (
    Acquisition,
    Compression,
    DatasetMetadata,
    Detector,
    Scan,
    create_dataset,
)
from ptyflow.physics import Aberrations, Probe
from ptyflow.provenance import start_record

__all__ = [
    "REFERENCE_VARIANTS",
    "reference_store",
    "score_phase",
    "score_reference",
    "segmented_masks",
]

Variant = Literal["noisy", "noisefree", "bin2", "virtual"]
REFERENCE_VARIANTS: tuple[str, ...] = ("noisy", "noisefree", "bin2", "virtual")
_FILES = {"noisy": "dp_noisy.npy", "noisefree": "dp_noisefree.npy", "bin2": "dp_noisy_bin2.npy"}


def reference_store(
    data_dir: Path,
    out: Path,
    variant: Variant = "noisy",
    *,
    crop: tuple[slice, slice] = (slice(None), slice(None)),
    masks: NDArray[np.float32] | None = None,
    missing: tuple[int, ...] = (),
) -> dict[str, Any]:
    """Write the reference data (optionally a scan crop) as a store at ``out``; the frames
    at flat indices ``missing`` are never written (an ``incomplete`` store).

    Returns the reference metadata plus ``scan_center_gt_A``: the ground-truth-frame (y, x)
    of the crop's scan centre, which is the origin (0, 0) of the store's scan frame.
    """
    meta = json.loads((data_dir / "metadata.json").read_text())
    name = _FILES["noisy" if variant == "virtual" else variant]
    frames = np.load(data_dir / name, mmap_mode="r")[crop]
    ny, nx = frames.shape[:2]
    positions = np.load(data_dir / "scan_positions_ang.npy").reshape(*meta["scan_shape"], 2)
    cropped = positions[crop]
    det_shape = tuple(meta["detector_shape"])
    compression = Compression()
    if variant == "bin2":
        compression = Compression(kind="bin", bin_factor=2)
    if variant == "virtual":
        if masks is None:
            raise ValueError("variant 'virtual' needs masks")
        compression = Compression(
            kind="virtual", mask_names=tuple(f"m{i}" for i in range(len(masks)))
        )
    metadata = DatasetMetadata(
        acquisition=Acquisition(
            beam=Probe(
                energy_eV=meta["energy_eV"],
                semiangle_mrad=meta["convergence_semiangle_mrad"],
                aberrations=Aberrations(C10_A=meta["C10_A"]),
            ),
            scan=Scan(shape=(ny, nx), step_A=tuple(meta["scan_step_A"]), rotation_deg=0.0),
            detector=Detector(
                shape=det_shape,
                pixel_size_inv_A=meta["detector_pixel_inv_A"],
                center_px=(
                    float(meta["optical_axis_pixel_yx"][0]),
                    float(meta["optical_axis_pixel_yx"][1]),
                ),
                bit_depth=32,
                name="abTEM reference",
            ),
            source="abTEM 1.0.6 SrTiO3 reference (../shared/data/srtio3)",
            started_utc=datetime.now(UTC),
        ),
        compression=compression,
    )
    record = start_record(
        "testing.reference_store", config={"source": str(data_dir / name), "variant": variant}
    )
    with create_dataset(
        out, metadata, dtype=np.float32, masks=masks, overwrite=True, record=record
    ) as writer:
        for row in range(ny):
            block = np.asarray(frames[row], dtype=np.float32)
            if masks is not None:
                block = np.einsum("bij,mij->bm", block, masks, optimize=True)
            for col in range(nx):
                if row * nx + col not in missing:
                    writer.write_frames(row * nx + col, block[col : col + 1])
    centre = cropped.reshape(-1, 2).mean(axis=0)
    return {**meta, "scan_center_gt_A": [float(centre[0]), float(centre[1])]}


def score_reference(
    result_path: Path, data_dir: Path, score_script: Path, scan_center_gt_A: list[float]
) -> dict[str, Any]:
    """Score a result store's phase against the reference ground truth (see
    :func:`score_phase`)."""
    from ptyflow.reconstruct import open_result

    r = open_result(result_path)
    return score_phase(
        r.phase, r.pixel_size_A, r.origin_A, r.positions_A, data_dir, score_script, scan_center_gt_A
    )


def score_phase(
    phase: NDArray[np.floating],
    pixel_size_A: tuple[float, float],
    origin_A: tuple[float, float],
    positions_A: NDArray[np.float64],
    data_dir: Path,
    score_script: Path,
    scan_center_gt_A: list[float],
) -> dict[str, Any]:
    """Score a phase (y, x) against the reference ground truth with the shared ``score.py``
    (run as a separate program: it is a measuring instrument, not ptyflow code).

    Registration starts from the result's own calibration: its origin moved into the
    ground-truth frame, and the ROI is the bounding box of the positions.
    """
    py, px = pixel_size_A
    oy, ox = origin_A
    pos = positions_A
    roi = [
        (pos[:, 0].min() - oy) / py,
        (pos[:, 0].max() - oy) / py,
        (pos[:, 1].min() - ox) / px,
        (pos[:, 1].max() - ox) / px,
    ]
    with tempfile.TemporaryDirectory() as tmp:
        path, info, out = Path(tmp, "phase.npy"), Path(tmp, "recon.json"), Path(tmp, "score.json")
        np.save(path, np.asarray(phase, dtype=np.float32))
        origin_gt = [oy + scan_center_gt_A[0], ox + scan_center_gt_A[1]]
        info.write_text(
            json.dumps({"pixel_size_A": py, "origin_yx_A": origin_gt, "scan_roi_px_rows_cols": roi})
        )
        cmd = [sys.executable, str(score_script), str(path), "--data", str(data_dir)]
        cmd += ["--recon-json", str(info), "--use-origin", "--json", str(out)]
        subprocess.run(cmd, check=True, capture_output=True, text=True)
        scores: dict[str, Any] = json.loads(out.read_text())
    return scores


def segmented_masks(
    shape: tuple[int, int], radii_px: tuple[float, ...], n_sectors: int
) -> NDArray[np.float32]:
    """Ring-and-sector virtual detectors around the centre pixel (n//2): one mask per ring
    (between consecutive ``radii_px``) and sector, ``(len(radii_px) − 1)·n_sectors`` in all."""
    yy, xx = np.indices(shape, dtype=np.float64)
    dy, dx = yy - shape[0] // 2, xx - shape[1] // 2
    radius = np.hypot(dy, dx)
    sector = (
        np.floor((np.arctan2(dy, dx) + np.pi) / (2 * np.pi) * n_sectors).astype(int) % n_sectors
    )
    masks = [
        (radius >= lo) & (radius < hi) & (sector == s)
        for lo, hi in itertools.pairwise(radii_px)
        for s in range(n_sectors)
    ]
    return np.asarray(masks, dtype=np.float32)
