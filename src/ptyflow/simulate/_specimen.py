"""Specimens as periodic phase objects, and their sampling on the simulation's object grid."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.fft import next_fast_len

from ptyflow.config.simulate import CrystalSpecimen, PhaseImageSpecimen
from ptyflow.errors import ConfigError
from ptyflow.physics import (
    CRYSTALS,
    PeriodicField,
    remove_atoms,
    sigma_rad_per_VA,
    sliced_projected_potential,
    substitute_atoms,
    supercell,
    transmission,
)

__all__ = ["SampledObject", "Specimen", "build_specimen", "sample_object"]


@dataclass(frozen=True)
class Specimen:
    """A periodic specimen: the phase σ·v [rad] of each slice, and the slice thicknesses [Å].

    ``phase`` holds a stack (n_slices, …) of band-limited Fourier series over one period,
    the cell ``phase.cell_A`` (Ly, Lx) [Å]; slice s is followed by ``slice_thicknesses_A[s]``
    of free-space propagation.
    """

    phase: PeriodicField
    slice_thicknesses_A: NDArray[np.float64]
    description: str


def _crystal(spec: CrystalSpecimen, energy_eV: float, cutoff_inv_A: float) -> Specimen:
    crystal = CRYSTALS[spec.crystal]
    atoms = supercell(crystal, spec.repeats)
    for d in spec.defects:
        if d.kind == "substitution":
            atoms = substitute_atoms(atoms, d.site, d.cell, d.element, d.layers)
        else:
            atoms = remove_atoms(atoms, d.site, d.cell, d.layers)
    dz = spec.slice_thickness_A or crystal.plane_spacing_A
    potential, thicknesses = sliced_projected_potential(atoms, dz, cutoff_inv_A)
    sigma = sigma_rad_per_VA(energy_eV)
    phase = PeriodicField(
        potential.cell_A, potential.orders_y, potential.orders_x, sigma * potential.coefficients
    )
    n_y, n_x, n_z = spec.repeats
    text = f"{crystal.description}, {n_y}×{n_x}×{n_z} cells, {len(spec.defects)} defect(s)"
    return Specimen(phase, thicknesses, text)


def _phase_image(spec: PhaseImageSpecimen, cutoff_inv_A: float) -> Specimen:
    try:
        image = np.load(spec.path, allow_pickle=False)
    except FileNotFoundError:
        raise ConfigError(f"[specimen].path: phase image {spec.path} not found") from None
    except (OSError, ValueError) as err:
        raise ConfigError(f"[specimen].path: cannot read {spec.path} as .npy: {err}") from None
    if image.ndim != 2 or image.dtype.kind not in "fiu":
        raise ConfigError(
            f"[specimen].path: {spec.path} must hold a 2D real array (y, x) of phases in rad, "
            f"got shape {image.shape} dtype {image.dtype}"
        )
    if not np.isfinite(image).all():
        raise ConfigError(f"[specimen].path: {spec.path} contains NaN or infinity")
    cell = (image.shape[0] * spec.pixel_size_A, image.shape[1] * spec.pixel_size_A)
    # The image holds no detail beyond its own Nyquist frequency; keep strictly below it.
    nyquist = min((n - 1) // 2 / length for n, length in zip(image.shape, cell, strict=True))
    phase = PeriodicField.from_samples(
        image[None].astype(np.float64), cell, min(cutoff_inv_A, nyquist)
    )
    ny, nx = image.shape
    text = f"phase image {spec.path.name}, {ny}×{nx} px of {spec.pixel_size_A} Å"
    return Specimen(phase, np.zeros(1), text)


def build_specimen(
    spec: CrystalSpecimen | PhaseImageSpecimen, energy_eV: float, cutoff_inv_A: float
) -> Specimen:
    """The specimen a config describes, band-limited to |k| ≤ ``cutoff_inv_A`` [1/Å]."""
    if isinstance(spec, CrystalSpecimen):
        return _crystal(spec, energy_eV, cutoff_inv_A)
    return _phase_image(spec, cutoff_inv_A)


@dataclass(frozen=True)
class SampledObject:
    """A specimen sampled on a regular object grid; pixel (0, 0) is centred at ``origin_A``.

    ``phase`` (n_slices, ny, nx) [rad] float32 is the ground truth; ``transmission`` is the
    band-limited exp(iφ) the multislice uses, complex64.
    """

    origin_A: tuple[float, float]
    pixel_size_A: float
    phase: NDArray[np.float32]
    transmission: NDArray[np.complex64]


def sample_object(
    specimen: Specimen,
    origin_A: tuple[float, float],
    shape: tuple[int, int],
    pixel_size_A: float,
    cutoff_inv_A: float,
) -> SampledObject:
    """Sample ``specimen`` on the grid origin + (i, j)·pixel_size [Å] of ``shape`` pixels.

    The transmission exp(iφ) is formed on a regular grid over one period (at least as fine as
    the object grid), band-limited to ``cutoff_inv_A`` there, and then sampled, so the object
    grid need not fit the period. Slices are done one at a time to bound the memory.
    """
    y = origin_A[0] + pixel_size_A * np.arange(shape[0])
    x = origin_A[1] + pixel_size_A * np.arange(shape[1])
    field = specimen.phase
    ny_cell, nx_cell = (
        next_fast_len(max(math.ceil(length / pixel_size_A), 2 * int(orders.max()) + 1))
        for length, orders in zip(field.cell_A, (field.orders_y, field.orders_x), strict=True)
    )
    n_slices = field.coefficients.shape[0]
    phase = np.empty((n_slices, *shape), dtype=np.float32)
    transmitted = np.empty((n_slices, *shape), dtype=np.complex64)
    for s in range(n_slices):
        one = PeriodicField(field.cell_A, field.orders_y, field.orders_x, field.coefficients[s])
        phase[s] = one.sample(y, x).real
        t_cell = transmission(one.sample_cell((ny_cell, nx_cell)).real)
        transmitted[s] = PeriodicField.from_samples(t_cell, field.cell_A, cutoff_inv_A).sample(y, x)
    return SampledObject(
        origin_A=(float(origin_A[0]), float(origin_A[1])),
        pixel_size_A=pixel_size_A,
        phase=phase,
        transmission=transmitted,
    )
