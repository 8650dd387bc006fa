"""The physics home shared by the simulator and the reconstructor.

Units: Å, eV, mrad (rad where stated), 1/Å, V·Å for projected potentials. The conventions
(axes, k = 0 pixel, C_nm aberrations, signs of propagation, transmission and scan rotation)
are written in docs/conventions.md and pinned by tests/physics.
"""

from ptyflow.physics.aberrations import (
    ABERRATION_ORDERS,
    Aberrations,
    aberration_coefficients,
    aberration_phase,
    aberration_phase_torch,
)
from ptyflow.physics.constants import BOHR_RADIUS_A, COULOMB_EV_A, sigma_rad_per_VA, wavelength_A
from ptyflow.physics.crystals import (
    CRYSTALS,
    Atoms,
    Crystal,
    Site,
    remove_atoms,
    substitute_atoms,
    supercell,
)
from ptyflow.physics.forward import (
    DetectorBinning,
    far_field_intensity,
    multislice,
    object_patches,
    shift_ramps,
    shifted_probes,
)
from ptyflow.physics.grid import ANTIALIAS_FRACTION, Grid, center_pixel
from ptyflow.physics.periodic import PeriodicField, harmonic_orders
from ptyflow.physics.potential import (
    KirklandParameters,
    kirkland_parameters,
    known_elements,
    projected_potential,
    scattering_factor_A,
    slice_thicknesses_A,
    sliced_projected_potential,
)
from ptyflow.physics.probe import Probe, soft_aperture
from ptyflow.physics.propagate import fresnel_propagator, transmission
from ptyflow.physics.scan import scan_directions, scan_positions_A

__all__ = [
    "ABERRATION_ORDERS",
    "ANTIALIAS_FRACTION",
    "BOHR_RADIUS_A",
    "COULOMB_EV_A",
    "CRYSTALS",
    "Aberrations",
    "Atoms",
    "Crystal",
    "DetectorBinning",
    "Grid",
    "KirklandParameters",
    "PeriodicField",
    "Probe",
    "Site",
    "aberration_coefficients",
    "aberration_phase",
    "aberration_phase_torch",
    "center_pixel",
    "far_field_intensity",
    "fresnel_propagator",
    "harmonic_orders",
    "kirkland_parameters",
    "known_elements",
    "multislice",
    "object_patches",
    "projected_potential",
    "remove_atoms",
    "scan_directions",
    "scan_positions_A",
    "scattering_factor_A",
    "shift_ramps",
    "shifted_probes",
    "sigma_rad_per_VA",
    "slice_thicknesses_A",
    "sliced_projected_potential",
    "soft_aperture",
    "substitute_atoms",
    "supercell",
    "transmission",
    "wavelength_A",
]
