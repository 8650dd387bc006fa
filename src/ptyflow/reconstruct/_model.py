"""The ptychographic model as a torch module: object slices, probe modes, positions.

Its forward pass is ``ptyflow.physics.forward`` (the simulator's own) followed by the
store's measurement operator, so the reconstructor inherits every pinned convention.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from ptyflow.config.reconstruct import ReconstructConfig
from ptyflow.physics import (
    Grid,
    Probe,
    aberration_coefficients,
    aberration_phase_torch,
    fresnel_propagator,
    soft_aperture,
)
from ptyflow.physics.forward import far_field_intensity
from ptyflow.physics.fused import exit_waves, probes_at
from ptyflow.reconstruct._geometry import ObjectGrid
from ptyflow.reconstruct._measure import Measurement

__all__ = ["PtychoModel"]


def _propagators(grid: Grid, wavelength_A: float, cfg: ReconstructConfig) -> torch.Tensor | None:
    """(S−1, N, N) Fresnel factors, with the beam tilt as a shift of dz·tan(tilt) per slice."""
    n, dz = cfg.model.n_slices, cfg.model.slice_thickness_A
    if n == 1 or dz is None:
        return None
    p = fresnel_propagator(grid, wavelength_A, dz, bandlimit=False)
    ky, kx = grid.frequencies()
    ty, tx = (np.tan(t * 1e-3) for t in cfg.model.tilt_mrad)
    p = p * np.exp(-2j * np.pi * dz * (ky * ty + kx * tx))
    return torch.from_numpy(np.stack([p] * (n - 1)).astype(np.complex64))


class _Transmission(torch.autograd.Function):
    """t = exp(log a + iφ); with p = g·conj(t) the gradients are Re p (log a) and Im p (φ),
    two views of one product, where autograd's graph of exp, cos, sin and their products
    takes ten passes (a third less time on 6 slices of 130×130). Formed with real cos and
    sin: torch's complex exp takes 4× as long."""

    @staticmethod
    def forward(ctx: Any, log_amplitude: torch.Tensor, phase: torch.Tensor) -> torch.Tensor:
        amplitude = torch.exp(log_amplitude)
        t = torch.complex(amplitude * torch.cos(phase), amplitude * torch.sin(phase))
        ctx.save_for_backward(t)
        return t

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        (t,) = ctx.saved_tensors
        p = grad * t.conj()
        return p.real, p.imag


class PtychoModel(torch.nn.Module):
    """Object (phase and log-amplitude per slice), probe modes ψ_m(k), and positions.

    Positions [Å, scan frame] are ``nominal @ affineᵀ + delta``; ``delta`` and ``affine``
    are parameters only when position refinement is on.
    """

    propagators: torch.Tensor | None
    ky: torch.Tensor
    kx: torch.Tensor
    aperture: torch.Tensor
    support: torch.Tensor
    nominal_A: torch.Tensor
    origin_A: torch.Tensor
    pixel_A: torch.Tensor

    def __init__(
        self,
        cfg: ReconstructConfig,
        probe: Probe,
        grid: ObjectGrid,
        nominal_A: NDArray[np.float64],
        measurement: Measurement,
        probe_power: float,
    ) -> None:
        super().__init__()
        self.cfg, self.grid, self.measurement = cfg, grid, measurement
        n_slices, m = cfg.model.n_slices, cfg.model.n_probe_modes
        shape = (n_slices, *grid.shape)
        self.phase = torch.nn.Parameter(torch.zeros(shape))
        self.log_amplitude = torch.nn.Parameter(
            torch.zeros(shape), requires_grad=not cfg.regularize.phase_only
        )
        wgrid = Grid(grid.window_px, grid.pixel_size_A)
        self._wavelength_A = probe.wavelength_A
        props = _propagators(wgrid, probe.wavelength_A, cfg)
        self.register_buffer("propagators", props)
        ky, kx = (torch.from_numpy(k) for k in wgrid.frequencies())
        self.register_buffer("ky", ky)
        self.register_buffer("kx", kx)
        aperture = soft_aperture(wgrid, probe.wavelength_A, probe.semiangle_mrad)
        self.register_buffer("aperture", torch.from_numpy(aperture.astype(np.float32)))
        mags, phis = aberration_coefficients(probe.aberrations)
        self.aberrations = torch.nn.Parameter(
            torch.from_numpy(np.stack([mags, phis])),
            requires_grad=bool(cfg.probe.refine_aberrations),  # None (auto) is resolved before
        )
        base = probe.fourier(wgrid).astype(np.complex64) * np.sqrt(probe_power)
        modes = [base * np.sqrt(1.0 - cfg.probe.second_mode_power * (m > 1))]
        for i in range(1, m):
            # Extra modes: the probe displaced by a pixel in a different direction each.
            angle = 2 * np.pi * i / max(m - 1, 1)
            ramp = np.exp(
                -2j
                * np.pi
                * (np.sin(angle) * ky.numpy() + np.cos(angle) * kx.numpy())
                * grid.pixel_size_A[0]
            )
            modes.append(base * ramp * np.sqrt(cfg.probe.second_mode_power / (m - 1)))
        self.probe_k = torch.nn.Parameter(torch.from_numpy(np.stack(modes).astype(np.complex64)))
        support = cfg.probe.support_factor
        k_ap = probe.aperture_radius_inv_A
        mask = (ky**2 + kx**2 <= (support * k_ap) ** 2) if support else torch.ones_like(ky + kx)
        self.register_buffer("support", mask.to(torch.float32))
        self.probe_power = probe_power
        self.register_buffer("nominal_A", torch.from_numpy(nominal_A))
        self.delta_A = torch.nn.Parameter(
            torch.zeros_like(self.nominal_A), requires_grad=cfg.positions.refine
        )
        self.affine = torch.nn.Parameter(
            torch.eye(2, dtype=torch.float64), requires_grad=cfg.positions.refine_affine
        )
        self.register_buffer("origin_A", torch.tensor(grid.origin_A, dtype=torch.float64))
        self.register_buffer("pixel_A", torch.tensor(grid.pixel_size_A, dtype=torch.float64))

    def probe_modes(self) -> torch.Tensor:
        """ψ_m(k) (M, N, N): free pixels, or the aperture and the refined aberrations."""
        if not self.cfg.probe.refine_aberrations:
            return self.probe_k
        chi = aberration_phase_torch(
            self.aberrations[0], self.aberrations[1], self.ky, self.kx, self._wavelength_A
        )
        psi = self.aperture * torch.polar(torch.ones_like(chi), -chi).to(torch.complex64)
        norm = torch.sqrt(self.probe_power / (psi.abs() ** 2).sum())
        return (psi * norm)[None]

    def positions_A(self) -> torch.Tensor:
        """Current probe positions (n, 2) [Å], scan frame."""
        return self.nominal_A @ self.affine.T + self.delta_A

    def exit_waves(self, indices: torch.Tensor) -> torch.Tensor:
        """Exit waves Ψ_m(k) (B, M, N, N), FFT order, of the frames at flat scan ``indices``."""
        n = self.grid.window_px[0]
        rel = (self.positions_A()[indices] - self.origin_A) / self.pixel_A
        start = torch.round(rel.detach()).to(torch.int64) - n // 2
        shift = (rel - start).to(torch.float32)
        waves = probes_at(self.probe_modes(), shift)
        return exit_waves(waves, self.transmission_(), start, self.propagators)

    @property
    def fused_amplitude(self) -> bool:
        """Whether the amplitude loss can take the exit waves straight (``_amplitude``): on
        the CPU, for data that are the modelled intensities themselves (pixelated)."""
        return self.measurement.identity and self.phase.device.type == "cpu"

    def forward(self, indices: torch.Tensor) -> torch.Tensor:
        """The modelled measurement of the frames at flat scan ``indices`` (B,)."""
        return self.measurement(far_field_intensity(self.exit_waves(indices), None))

    @torch.no_grad()
    def constrain(self) -> None:
        """After each step: probe support and power, position corrections within bounds."""
        if not self.cfg.probe.refine_aberrations:
            self.probe_k.mul_(self.support)
            if self.cfg.probe.fix_power:
                power = (self.probe_k.abs() ** 2).sum()
                self.probe_k.mul_(torch.sqrt(self.probe_power / power))
        if self.delta_A.requires_grad:  # else it stays zero: no kernel per batch for it
            limit = self.cfg.positions.max_shift_A
            self.delta_A.clamp_(-limit, limit)

    def transmission_(self) -> torch.Tensor:
        """The object (S, H, W) complex64, differentiable. Formed over the whole object (far
        fewer pixels than a batch of patches)."""
        return _Transmission.apply(self.log_amplitude, self.phase)

    def transmission(self) -> torch.Tensor:
        """The object (S, H, W) complex64, detached."""
        return self.transmission_().detach()
