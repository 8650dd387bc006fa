"""Scan rotation from the centre-of-mass curl, the binned measurement convention, and the
loss chosen from the dose."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ptyflow.physics import DetectorBinning, scan_positions_A
from ptyflow.reconstruct import estimate_rotation_deg
from ptyflow.reconstruct._data import signal_counts
from ptyflow.reconstruct._measure import choose_loss


def _com_field(rotation_deg: float, transpose: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """CoM = gradient of a smooth random potential at the positions of a rotated scan."""
    rng = np.random.default_rng(3)
    k = rng.normal(size=(12, 2)) * 0.25  # smooth on the 0.5 Å step, as a CoM field at low dose
    amp = rng.normal(size=12)
    pos = scan_positions_A((24, 24), (0.5, 0.5), rotation_deg)
    arg = pos @ k.T
    grad = -(np.sin(arg) * amp) @ k  # ∇ Σ a cos(k·r), (n, 2) in (y, x) detector axes
    gy, gx = grad[:, 0].reshape(24, 24), grad[:, 1].reshape(24, 24)
    return (gx, gy) if transpose else (gy, gx)


@pytest.mark.parametrize("rotation", [12.0, -12.0, 0.0, 37.0])
def test_rotation_estimate_recovers_the_scan_rotation(rotation: float) -> None:
    theta, transposed = estimate_rotation_deg(*_com_field(rotation))
    assert theta == pytest.approx(rotation, abs=0.5)
    assert not transposed


def test_transposed_detector_is_flagged() -> None:
    _, transposed = estimate_rotation_deg(*_com_field(12.0, transpose=True))
    assert transposed


def test_fft_order_block_sums_are_the_detector_binning() -> None:
    """The measurement sums b×b blocks of the FFT-order model and compares them with frames
    rolled by −n//2; that must equal physics.DetectorBinning (the simulator's convention)."""
    from ptyflow.reconstruct._measure import Measurement

    rng = np.random.default_rng(0)
    for b, n in ((2, 16), (3, 9)):
        intensity = torch.from_numpy(rng.random((2, n * b, n * b)).astype(np.float32))
        detector = DetectorBinning((n, n), b, n * b)(intensity)
        m = Measurement.__new__(Measurement)
        m.kind, m._bin, m._frame_shape, m._masks = "bin", b, (n, n), None
        torch.testing.assert_close(m(intensity), m.prepare(detector))


def test_loss_default_follows_the_dose() -> None:
    frame = np.zeros((64, 64))
    frame[24:40, 24:40] = 25.0  # a bright disk of 25 counts per pixel, dark elsewhere
    assert signal_counts(frame) == pytest.approx(25.0)
    assert choose_loss("auto", signal_counts(frame), 10.0) == "amplitude"
    assert choose_loss("auto", signal_counts(frame / 10), 10.0) == "poisson"
    assert choose_loss("intensity", 1.0, 10.0) == "intensity"
