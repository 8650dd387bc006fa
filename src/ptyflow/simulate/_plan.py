"""Turn a :class:`SimulateConfig` into everything the frame generator needs."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ptyflow.config.simulate import SimulateConfig
from ptyflow.errors import ConfigError, PhysicsError
from ptyflow.physics import scan_positions_A
from ptyflow.simulate._budget import Budget, estimate_budget
from ptyflow.simulate._frames import FrameSimulator
from ptyflow.simulate._specimen import SampledObject, Specimen, build_specimen, sample_object
from ptyflow.simulate._window import SimulationWindow

__all__ = ["SimulationPlan", "plan_simulation"]


@dataclass(frozen=True)
class SimulationPlan:
    """The resolved simulation: window, specimen, probe positions and the frame generator.

    ``positions_A`` (N, 2) are where the probe really is, (y, x) [Å] in the specimen frame,
    raster order; ``nominal_positions_A`` the raster the store's metadata describes. They
    differ by the scan's position errors (``scan.jitter_A``).
    """

    config: SimulateConfig
    window: SimulationWindow
    specimen: Specimen
    positions_A: NDArray[np.float64]
    nominal_positions_A: NDArray[np.float64]
    obj: SampledObject
    simulator: FrameSimulator
    budget: Budget

    @property
    def electrons_per_position(self) -> float:
        """Dose [e/Å²] × step_y × step_x [Å²]."""
        sy, sx = self.config.scan.step_A
        return self.config.dose.dose_e_per_A2 * sy * sx

    def summary(self) -> list[tuple[str, str]]:
        """What the simulation will do and make, as (label, text) rows for people to read."""
        cfg, window = self.config, self.window
        n_pos, n_slices = len(self.positions_A), len(self.specimen.slice_thicknesses_A)
        reach_mrad = window.grid.antialias_cutoff_inv_A * cfg.beam.wavelength_A * 1e3
        raw_GB = n_pos * int(np.prod(cfg.detector.shape)) * 4 / 1e9  # uint32 or float32
        return [
            ("specimen", self.specimen.description),
            ("slices", f"{n_slices}, {self.specimen.slice_thicknesses_A.sum():.2f} Å in all"),
            (
                "probe",
                f"{cfg.beam.energy_eV / 1e3:g} keV, {cfg.beam.semiangle_mrad:g} mrad, "
                f"defocus {cfg.beam.aberrations.defocus_A:g} Å",
            ),
            (
                "scan",
                f"{cfg.scan.shape[0]}×{cfg.scan.shape[1]} = {n_pos} positions, step "
                f"{cfg.scan.step_A[0]:g}×{cfg.scan.step_A[1]:g} Å, "
                f"rotation {cfg.scan.rotation_deg:g}°"
                + (f", position errors σ = {cfg.scan.jitter_A:g} Å" if cfg.scan.jitter_A else ""),
            ),
            (
                "window",
                f"{window.size}² px at {window.pixel_size_A:.4f} Å "
                f"({window.grid.extent_A[0]:.2f} Å), pixel integration "
                f"{window.oversampling}×{window.oversampling}, band limit "
                f"{reach_mrad:.1f} mrad",
            ),
            (
                "electrons",
                f"{self.electrons_per_position:g} per position"
                + (", Poisson noise" if cfg.dose.poisson_noise else ", noise-free"),
            ),
            (
                "store",
                f"{n_pos} frames of {cfg.detector.shape[0]}×{cfg.detector.shape[1]} px, "
                f"{raw_GB:.3g} GB before compression",
            ),
            ("memory", f"about {self.budget.memory_bytes / 1e9:.3g} GB at most"),
        ]


def _check_beam_and_detector(config: SimulateConfig, window: SimulationWindow) -> None:
    """Refuse a beam the window cannot hold and a detector that sees nothing but the BF disk."""
    beam, det = config.beam, config.detector
    band_mrad = window.grid.antialias_cutoff_inv_A * beam.wavelength_A * 1e3
    if beam.semiangle_mrad > band_mrad:
        raise PhysicsError(
            f"beam.semiangle_mrad {beam.semiangle_mrad:g} exceeds the simulated band limit "
            f"of {band_mrad:.1f} mrad (set by detector.shape, detector.pixel_size_inv_A and "
            "numerics.max_angle_mrad): the store would describe a beam that was not simulated"
        )
    # From k = 0 to the outer corner of the farthest pixel, as SimulationWindow measures it.
    reach = math.hypot(*((n // 2 + 0.5) * det.pixel_size_inv_A for n in det.shape))
    if reach <= beam.aperture_radius_inv_A:
        raise PhysicsError(
            f"detector.shape {det.shape} at detector.pixel_size_inv_A {det.pixel_size_inv_A:g} "
            f"reaches {reach:.3g} 1/Å from k = 0, inside the {beam.aperture_radius_inv_A:.3g} "
            "1/Å bright-field disk: every pixel would count the same unscattered beam; use "
            "more or larger pixels"
        )
    electrons = config.dose.dose_e_per_A2 * config.scan.step_A[0] * config.scan.step_A[1]
    limit, dtype = (
        (float(np.iinfo(np.uint32).max), "uint32 Poisson counts")
        if config.dose.poisson_noise
        else (float(np.finfo(np.float32).max), "float32 expected counts")
    )
    if not electrons <= limit:
        raise PhysicsError(
            f"dose.dose_e_per_A2 {config.dose.dose_e_per_A2:g} × scan.step_A gives "
            f"{electrons:.3g} electrons per position, and a pixel can receive them all: "
            f"expected counts per pixel up to {electrons:.3g}, beyond the {limit:.4g} that "
            f"{dtype} hold; lower the dose"
        )


def _check_scan_on_specimen(
    config: SimulateConfig, nominal: NDArray[np.float64], cell_A: tuple[float, float]
) -> None:
    """Refuse a scan whose probe positions leave the specimen (one period of it)."""
    low, high = nominal.min(axis=0), nominal.max(axis=0)
    if (low >= 0).all() and (high <= np.asarray(cell_A)).all():
        return
    centre = config.scan.center_A or "the specimen's centre"
    raise ConfigError(
        f"the scan (scan.center_A {centre}, scan.shape × scan.step_A) puts probe positions "
        "outside the specimen: "
        f"they span y {low[0]:.4g} … {high[0]:.4g} Å, x {low[1]:.4g} … {high[1]:.4g} Å, the "
        f"specimen 0 … {cell_A[0]:.4g} Å × 0 … {cell_A[1]:.4g} Å; move scan.center_A or scan "
        "a smaller area (scan.shape × scan.step_A)"
    )


def plan_simulation(config: SimulateConfig, out_path: Path | None = None) -> SimulationPlan:
    """Build the window, the specimen and the object grid under the scan, and check them.

    Raises :class:`~ptyflow.errors.PhysicsError` or :class:`~ptyflow.errors.ConfigError`
    naming the key at fault when the parameters cannot give a faithful simulation, or when
    the memory (and, given ``out_path``, the disk) it needs is not there; both are
    estimated before anything large is allocated.
    """
    det, num = config.detector, config.numerics
    max_k = (
        0.0 if num.max_angle_mrad is None else num.max_angle_mrad * 1e-3 / config.beam.wavelength_A
    )
    window = SimulationWindow.for_detector(det.shape, det.pixel_size_inv_A, num.oversampling, max_k)
    _check_beam_and_detector(config, window)
    window.check_probe(config.beam)
    budget = estimate_budget(config, window)
    budget.check(out_path)
    cutoff = window.grid.antialias_cutoff_inv_A
    specimen = build_specimen(config.specimen, config.beam.energy_eV, cutoff)
    cell = specimen.phase.cell_A
    centre = config.scan.center_A or (cell[0] / 2, cell[1] / 2)
    nominal = scan_positions_A(
        config.scan.shape, config.scan.step_A, config.scan.rotation_deg, centre
    )
    _check_scan_on_specimen(config, nominal, cell)
    errors = np.random.default_rng(config.scan.jitter_seed).normal(size=nominal.shape)
    positions = nominal + config.scan.jitter_A * errors
    # The object grid: the specimen's own grid i·dx, covering every window with a pixel to spare.
    dx, n = window.pixel_size_A, window.size
    first = (np.floor(positions.min(axis=0) / dx) - (n // 2 + 1)) * dx
    ny, nx = np.ceil((positions.max(axis=0) - positions.min(axis=0)) / dx).astype(int) + n + 3
    obj = sample_object(specimen, (first[0], first[1]), (int(ny), int(nx)), dx, cutoff)
    simulator = FrameSimulator(config.beam, window, obj, specimen.slice_thicknesses_A)
    return SimulationPlan(config, window, specimen, positions, nominal, obj, simulator, budget)
