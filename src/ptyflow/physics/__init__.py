"""The physics home shared by the simulator and the reconstructor.

Units everywhere: Å, eV, mrad (or rad where stated), 1/Å. Conventions: docs/conventions.md.
"""

from ptyflow.physics.aberrations import ABERRATION_ORDERS, Aberrations, aberration_phase

__all__ = ["ABERRATION_ORDERS", "Aberrations", "aberration_phase"]
