"""Bring the shared abTEM SrTiO3 reference dataset (``../shared/data/srtio3``) into a store.

Until ``ptyflow import`` exists for every case this is how tests and benchmarks reconstruct
it; the variants are the raw noisy frames, the noise-free ones, the 2×2-binned noisy frames,
and virtual-detector signals computed from the noisy frames with given masks.
"""

from __future__ import annotations

import json
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

__all__ = ["REFERENCE_VARIANTS", "reference_store"]

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
) -> dict[str, Any]:
    """Write the reference data (optionally a scan crop) as a store at ``out``.

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
                center_px=tuple(float(c) for c in meta["optical_axis_pixel_yx"]),
                bit_depth=32,
                name="abTEM reference",
            ),
            source="abTEM 1.0.6 SrTiO3 reference (../shared/data/srtio3)",
            started_utc=datetime.now(UTC),
        ),
        compression=compression,
    )
    with create_dataset(out, metadata, dtype=np.float32, masks=masks, overwrite=True) as writer:
        for row in range(ny):
            block = np.asarray(frames[row], dtype=np.float32)
            if masks is not None:
                block = np.einsum("bij,mij->bm", block, masks, optimize=True)
            writer.write_frames(row * nx, block)
    centre = cropped.reshape(-1, 2).mean(axis=0)
    return {**meta, "scan_center_gt_A": [float(centre[0]), float(centre[1])]}
