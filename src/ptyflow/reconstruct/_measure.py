"""Measurement operators and losses: the model is compared with the data in the domain the
store recorded (pixelated, binned, or virtual-detector signals).

- pixelated: the window's far-field intensity, fftshifted onto the detector;
- binned by b: the model on the raw detector's grid, summed b×b (so k = 0 lands where the
  store's frame grid says);
- virtual: the raw-detector model weighted by each stored mask and summed.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from ptyflow.dataset import Dataset
from ptyflow.errors import DatasetError
from ptyflow.physics import center_pixel

__all__ = ["LOSSES", "Measurement", "choose_loss", "data_error"]

_EPS = 1e-6


class Measurement:
    """Maps far-field intensities (B, N, N), FFT order, to what the store holds per frame."""

    def __init__(self, ds: Dataset, device: torch.device) -> None:
        meta = ds.metadata
        det = meta.acquisition.detector
        if tuple(det.center_px) != tuple(float(c) for c in center_pixel(det.shape)):
            raise DatasetError(
                f"{ds.path}: acquisition.detector.center_px {tuple(det.center_px)} is not the "
                f"centred k = 0 pixel {center_pixel(det.shape)}; centre the frames first"
            )
        self.kind = meta.compression.kind
        self.window_px: tuple[int, int] = (det.shape[0], det.shape[1])
        self.raw_pixel_size_inv_A = det.pixel_size_inv_A
        self._bin = meta.compression.bin_factor or 1
        self._frame_shape = meta.frame_grid.shape
        if det.shape[0] != det.shape[1]:
            raise DatasetError(f"{ds.path}: square detectors only (got {det.shape})")
        self._masks: torch.Tensor | None = None
        if self.kind == "virtual":
            masks = ds.masks
            if masks is None:
                raise DatasetError(f"{ds.path}: compression kind 'virtual' but no masks array")
            # The masks in FFT order, so the model's intensities need no reordering.
            masks = np.fft.ifftshift(masks, axes=(-2, -1))
            self._masks = torch.from_numpy(masks.reshape(len(masks), -1).T.copy()).to(device)

    @property
    def identity(self) -> bool:
        """True for pixelated data: the stored frames are the modelled intensities."""
        return self._masks is None and self._bin == 1

    def prepare(self, frames: torch.Tensor) -> torch.Tensor:
        """Stored frames in the order the model produces them, moved once here instead of
        every modelled batch: detector pixel j goes to (j − n//2) mod n, FFT order of the
        stored grid (``physics.DetectorBinning``'s convention, by which FFT-order b×b
        blocks are whole detector pixels)."""
        if self.kind == "virtual":
            return frames
        shift = tuple(-(n // 2) for n in self._frame_shape)
        return torch.roll(frames, shift, dims=(-2, -1))

    def __call__(self, intensity: torch.Tensor) -> torch.Tensor:
        """Modelled intensities (B, N, N), FFT order → what is stored, in prepared order."""
        if self._masks is not None:
            return intensity.reshape(len(intensity), -1) @ self._masks
        b = self._bin
        if b == 1:
            return intensity
        if (b - 1) // 2:  # odd b: the block around k = 0 starts (b − 1)/2 fine pixels early
            intensity = torch.roll(intensity, ((b - 1) // 2,) * 2, dims=(-2, -1))
        (ny, nx) = self._frame_shape
        return intensity.reshape(-1, ny, b, nx, b).sum(dim=(2, 4))


Data = torch.Tensor | None  # the amplitude loss is given none


def _amplitude(model: torch.Tensor, data: Data, root: torch.Tensor) -> torch.Tensor:
    return (torch.sqrt(model + _EPS) - root).square().mean()


def _poisson(model: torch.Tensor, data: Data, root: torch.Tensor) -> torch.Tensor:
    assert data is not None
    return (model - data * torch.log(model + _EPS)).mean()


def _intensity(model: torch.Tensor, data: Data, root: torch.Tensor) -> torch.Tensor:
    assert data is not None
    return (model - data).square().mean()


#: loss(model, data, √max(data, 0)): the roots come precomputed with the data; the
#: amplitude loss needs only them, and is given None for the data.
LOSSES: dict[str, Callable[[torch.Tensor, Data, torch.Tensor], torch.Tensor]] = {
    "amplitude": _amplitude,
    "poisson": _poisson,
    "intensity": _intensity,
}


def choose_loss(kind: str, signal_counts: float, threshold: float) -> str:
    """``kind``, or for ``auto`` Poisson when the counts per measured value where the signal
    is are below ``threshold`` (the square root's bias at a few counts weakens the contrast
    an amplitude loss recovers) and amplitude above (it converges faster and tolerates the
    model errors that dominate at high dose)."""
    if kind != "auto":
        return kind
    return "poisson" if math.isfinite(signal_counts) and signal_counts < threshold else "amplitude"


def data_error(model: torch.Tensor, root: torch.Tensor) -> torch.Tensor:
    """Σ|√model − √data| of a batch (``root`` = √data): over Σ√data, the R-factor, a data
    error independent of the loss being minimised. Left on the device. Each batch sums in
    float32 (pairwise, so accurate to ~1e-7; a float64 sum would first copy the batch to
    float64) and the caller accumulates the batches in float64."""
    return (torch.sqrt(model.clamp(min=0)) - root).abs().sum().to(torch.float64)
