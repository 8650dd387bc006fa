"""Turn a :class:`SimulateConfig` into everything the frame generator needs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ptyflow.config.simulate import SimulateConfig
from ptyflow.physics import scan_positions_A
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
        ]


def plan_simulation(config: SimulateConfig) -> SimulationPlan:
    """Build the window, the specimen and the object grid under the scan, and check them.

    Raises :class:`~ptyflow.errors.PhysicsError` or :class:`~ptyflow.errors.ConfigError`
    naming the key at fault when the parameters cannot give a faithful simulation.
    """
    det, num = config.detector, config.numerics
    max_k = (
        0.0 if num.max_angle_mrad is None else num.max_angle_mrad * 1e-3 / config.beam.wavelength_A
    )
    window = SimulationWindow.for_detector(det.shape, det.pixel_size_inv_A, num.oversampling, max_k)
    window.check_probe(config.beam)
    cutoff = window.grid.antialias_cutoff_inv_A
    specimen = build_specimen(config.specimen, config.beam.energy_eV, cutoff)
    cell = specimen.phase.cell_A
    centre = config.scan.center_A or (cell[0] / 2, cell[1] / 2)
    nominal = scan_positions_A(
        config.scan.shape, config.scan.step_A, config.scan.rotation_deg, centre
    )
    errors = np.random.default_rng(config.scan.jitter_seed).normal(size=nominal.shape)
    positions = nominal + config.scan.jitter_A * errors
    # The object grid: the specimen's own grid i·dx, covering every window with a pixel to spare.
    dx, n = window.pixel_size_A, window.size
    first = (np.floor(positions.min(axis=0) / dx) - (n // 2 + 1)) * dx
    ny, nx = np.ceil((positions.max(axis=0) - positions.min(axis=0)) / dx).astype(int) + n + 3
    obj = sample_object(specimen, (first[0], first[1]), (int(ny), int(nx)), dx, cutoff)
    simulator = FrameSimulator(config.beam, window, obj, specimen.slice_thicknesses_A)
    return SimulationPlan(config, window, specimen, positions, nominal, obj, simulator)
