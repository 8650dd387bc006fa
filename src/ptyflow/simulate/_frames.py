"""The frame generator: multislice diffraction patterns for batches of probe positions.

Per position: cut the object patch around it, shift the probe there with a Fourier phase
ramp (sub-pixel exact), alternate transmission and Fresnel propagation through the slices,
Fourier transform, take |·|², and sum fine k pixels into detector pixels. Batches of
positions go through torch's CPU FFTs together.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import NDArray

from ptyflow.errors import PhysicsError
from ptyflow.physics import Probe, fresnel_propagator
from ptyflow.physics.forward import (
    far_field_intensity,
    multislice,
    object_patches,
    shift_ramps,
    shifted_probes,
)
from ptyflow.simulate._specimen import SampledObject
from ptyflow.simulate._window import SimulationWindow

__all__ = ["FrameBlock", "FrameSimulator"]


@dataclass(frozen=True)
class FrameBlock:
    """Frames for flat scan indices ``start_index …``: ``frames`` (n, nky, nkx) in counts
    (uint32 with noise, float32 expected counts without) and the noise-free fraction of the
    beam on the detector for each."""

    start_index: int
    frames: NDArray[np.uint32] | NDArray[np.float32]
    beam_fraction: NDArray[np.float64]


class FrameSimulator:
    """Diffraction patterns of a probe scanned over a sampled object.

    ``slice_thicknesses_A[s]`` is the free-space gap after slice s of ``obj``.
    """

    def __init__(
        self,
        probe: Probe,
        window: SimulationWindow,
        obj: SampledObject,
        slice_thicknesses_A: NDArray[np.float64],
    ) -> None:
        if abs(obj.pixel_size_A - window.pixel_size_A) > 1e-9 * window.pixel_size_A:
            raise ValueError("the object grid and the simulation window differ in pixel size")
        self.window = window
        self.obj = obj
        grid = window.grid
        self._probe_k = torch.from_numpy(probe.fourier(grid).astype(np.complex64))[None]
        self._propagators = (
            torch.from_numpy(
                np.stack(
                    [
                        fresnel_propagator(grid, probe.wavelength_A, dz)
                        for dz in slice_thicknesses_A[:-1]
                    ]
                ).astype(np.complex64)
            )
            if len(slice_thicknesses_A) > 1
            else None
        )
        self._bandlimit = torch.from_numpy(grid.antialias_mask())
        self._transmission = torch.from_numpy(obj.transmission)

    def intensities(self, positions_A: NDArray[np.floating]) -> NDArray[np.float32]:
        """Detector patterns (B, nky, nkx) for probe positions (B, 2) (y, x) [Å] in the
        specimen frame, normalised so an unscattered beam fully on the detector sums to 1."""
        n = self.window.size
        rel = (
            np.asarray(positions_A, dtype=np.float64) - self.obj.origin_A
        ) / self.obj.pixel_size_A
        centre = np.rint(rel).astype(np.int64)
        start = centre - n // 2
        _, ny_obj, nx_obj = self._transmission.shape
        if (
            start.min(initial=0) < 0
            or (start[:, 0] + n).max(initial=0) > ny_obj
            or (start[:, 1] + n).max(initial=0) > nx_obj
        ):
            raise ValueError("a probe position lies outside the sampled object")
        shift = torch.from_numpy(n // 2 + rel - centre)  # probe centre within the patch [px]
        waves = shifted_probes(self._probe_k, shift_ramps(shift, (n, n)))
        patches = object_patches(self._transmission, torch.from_numpy(start), n)
        wave_k = multislice(waves, patches, self._propagators)
        return self.window.bin_to_detector(far_field_intensity(wave_k, self._bandlimit)).numpy()

    def blocks(
        self,
        positions_A: NDArray[np.floating],
        scan_shape: tuple[int, int],
        electrons_per_position: float,
        *,
        poisson_seed: int | None,
        batch_size: int = 32,
    ) -> Iterator[FrameBlock]:
        """One :class:`FrameBlock` per scan row, in raster order, so no more than a row of
        frames is ever held. With ``poisson_seed`` the counts are Poisson draws (row r uses
        ``default_rng([seed, r])``, so they do not depend on ``batch_size``)."""
        ny, nx = scan_shape
        for row in range(ny):
            row_positions = positions_A[row * nx : (row + 1) * nx]
            patterns = np.concatenate(
                [
                    self.intensities(row_positions[i : i + batch_size])
                    for i in range(0, nx, batch_size)
                ]
            )
            if not np.isfinite(patterns).all():
                bad = int(np.flatnonzero(~np.isfinite(patterns).all(axis=(1, 2)))[0])
                raise PhysicsError(
                    f"the simulated pattern of scan position {(row, bad)} is not finite "
                    "(NaN or infinity); check the beam's aberrations and the numerics"
                )
            fraction = patterns.sum(axis=(1, 2), dtype=np.float64)
            expected = patterns * np.float32(electrons_per_position)
            if poisson_seed is None:
                frames: NDArray[np.uint32] | NDArray[np.float32] = expected
            else:
                rng = np.random.default_rng([poisson_seed, row])
                frames = rng.poisson(expected).astype(np.uint32)
            yield FrameBlock(row * nx, frames, fraction)
