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

    ``positions_A`` (N, 2) are (y, x) [Å] in the specimen frame, raster order.
    """

    config: SimulateConfig
    window: SimulationWindow
    specimen: Specimen
    positions_A: NDArray[np.float64]
    obj: SampledObject
    simulator: FrameSimulator

    @property
    def electrons_per_position(self) -> float:
        """Dose [e/Å²] × step_y × step_x [Å²]."""
        sy, sx = self.config.scan.step_A
        return self.config.dose.dose_e_per_A2 * sy * sx


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
    positions = scan_positions_A(
        config.scan.shape, config.scan.step_A, config.scan.rotation_deg, centre
    )
    # The object grid: the specimen's own grid i·dx, covering every window with a pixel to spare.
    dx, n = window.pixel_size_A, window.size
    first = (np.floor(positions.min(axis=0) / dx) - (n // 2 + 1)) * dx
    ny, nx = np.ceil((positions.max(axis=0) - positions.min(axis=0)) / dx).astype(int) + n + 3
    obj = sample_object(specimen, (first[0], first[1]), (int(ny), int(nx)), dx, cutoff)
    simulator = FrameSimulator(config.beam, window, obj, specimen.slice_thicknesses_A)
    return SimulationPlan(config, window, specimen, positions, obj, simulator)
