"""Up-front estimates of the memory and disk a simulation needs, from its config alone.

Checked before anything large is allocated (also under ``--dry-run``), so an impossible
scan, specimen or slice thickness is refused with the numbers instead of a MemoryError.
The estimates count the few large arrays (each named with the config keys that size it);
they are meant to be right within a factor of two, not to the byte.
"""

from __future__ import annotations

import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ptyflow.config.simulate import CrystalSpecimen, SimulateConfig
from ptyflow.errors import ConfigError
from ptyflow.physics import CRYSTALS
from ptyflow.simulate._window import SimulationWindow

__all__ = ["Budget", "estimate_budget"]

_GB = 1e9


@dataclass(frozen=True)
class Budget:
    """Bytes of the largest arrays in memory (label → bytes) and of the outputs on disk."""

    memory: dict[str, float]
    disk_bytes: float

    @property
    def memory_bytes(self) -> float:
        return sum(self.memory.values())

    def check(self, out_path: Path | None) -> None:
        """Raise ConfigError if the memory (or, given ``out_path``, the disk) will not do."""
        available = _available_memory_bytes()
        if not self.memory_bytes <= available:
            parts = sorted(self.memory.items(), key=lambda kv: -kv[1])
            lines = "\n".join(f"  {label}: {_fmt(size)}" for label, size in parts[:4])
            raise ConfigError(
                f"this simulation needs about {_fmt(self.memory_bytes)} of memory, more than "
                f"the {_fmt(available)} available; the largest parts and the keys that size "
                f"them:\n{lines}"
            )
        if out_path is None:
            return
        existing = next(
            p for p in (out_path.absolute(), *out_path.absolute().parents) if p.exists()
        )
        free = shutil.disk_usage(existing).free
        if not self.disk_bytes <= free:
            raise ConfigError(
                f"{out_path}: the store and its ground truth need up to "
                f"{_fmt(self.disk_bytes)} (uncompressed), more than the {_fmt(free)} free "
                f"on {existing}; scan fewer positions (scan.shape) or detector pixels"
            )


def _fmt(size: float) -> str:
    return f"{size / _GB:.3g} GB"


def _available_memory_bytes() -> float:
    """MemAvailable on Linux; all physical memory elsewhere."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    return float(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))


def _specimen_extent(config: SimulateConfig) -> tuple[float, float, float, float]:
    """(Ly, Lx [Å] of one period, number of slices, number of atoms), from the config alone."""
    spec = config.specimen
    if isinstance(spec, CrystalSpecimen):
        crystal = CRYSTALS[spec.crystal]
        ly, lx, lz = (c * r for c, r in zip(crystal.cell_A, spec.repeats, strict=True))
        dz = spec.slice_thickness_A or crystal.plane_spacing_A
        n_atoms = float(np.prod(spec.repeats, dtype=np.float64)) * len(crystal.sites)
        return ly, lx, max(1.0, float(np.ceil(lz / dz))), n_atoms
    try:  # only the header: the image is checked properly when it is read
        ny, nx = np.load(spec.path, mmap_mode="r", allow_pickle=False).shape[:2]
    except (OSError, ValueError):
        ny = nx = 1
    return ny * spec.pixel_size_A, nx * spec.pixel_size_A, 1.0, 0.0


def estimate_budget(config: SimulateConfig, window: SimulationWindow) -> Budget:
    """Memory and disk of simulating ``config`` in ``window``; no large array is allocated."""
    scan, det = config.scan, config.detector
    n_pos = float(scan.shape[0]) * scan.shape[1]
    ly, lx, n_slices, n_atoms = _specimen_extent(config)
    cutoff = window.grid.antialias_cutoff_inv_A
    orders = float((2 * np.floor(cutoff * ly) + 1) * (2 * np.floor(cutoff * lx) + 1))
    # The object grid covers the scan (rotated, with its position errors) plus one window.
    angle = math.radians(scan.rotation_deg)
    span_y, span_x = ((n - 1) * s for n, s in zip(scan.shape, scan.step_A, strict=True))
    margin = 12 * scan.jitter_A + window.size * window.pixel_size_A
    extent_y = abs(span_y * math.cos(angle)) + abs(span_x * math.sin(angle)) + margin
    extent_x = abs(span_y * math.sin(angle)) + abs(span_x * math.cos(angle)) + margin
    object_px = (extent_y / window.pixel_size_A + 4) * (extent_x / window.pixel_size_A + 4)
    window_px = float(window.size) ** 2
    frame_px = float(det.shape[0]) * det.shape[1]
    memory = {
        "scan positions (scan.shape)": n_pos * 2 * 8 * 6,
        "atoms (specimen.repeats)": n_atoms * 8 * 16,
        "specimen potential (specimen size and slice thickness)": n_slices * orders * 16 * 2,
        "object under the scan (scan.shape × scan.step_A, slices)": n_slices * object_px * 12,
        "propagators and waves (slices, numerics.batch_size, detector)": (
            (n_slices + 8 * config.numerics.batch_size) * window_px * 8
        ),
        "frames of one scan row (scan.shape, detector.shape)": scan.shape[1] * frame_px * 4 * 3,
    }
    disk = n_pos * frame_px * 4 + n_slices * object_px * 4 + n_pos * 2 * 8 * 2
    return Budget(memory, disk)
