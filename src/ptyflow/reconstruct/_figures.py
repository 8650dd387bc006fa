"""Figures of a result: object phase, probe modes, convergence (PNG) and the phase (TIFF)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import tifffile
from numpy.typing import NDArray

from ptyflow.reconstruct._progress import IterationLog

__all__ = ["write_figures"]


def write_figures(
    folder: Path,
    arrays: dict[str, NDArray[Any]],
    history: IterationLog,
    pixel_size_A: tuple[float, float],
) -> None:
    """``phase.png``, ``probe.png``, ``convergence.png`` and ``phase.tif`` in ``folder``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    phase = np.angle(arrays["object"]).sum(axis=0).astype(np.float32)
    tifffile.imwrite(
        folder / "phase.tif", phase, resolution=(1 / pixel_size_A[1], 1 / pixel_size_A[0])
    )
    extent = (0, phase.shape[1] * pixel_size_A[1], phase.shape[0] * pixel_size_A[0], 0)
    fig, ax = plt.subplots(figsize=(5, 4.5))
    im = ax.imshow(phase, cmap="gray", extent=extent)
    ax.set(title="object phase (sum over slices)", xlabel="x [Å]", ylabel="y [Å]")
    fig.colorbar(im, ax=ax, label="rad")
    fig.savefig(folder / "phase.png", dpi=100, bbox_inches="tight")
    plt.close(fig)

    probe = arrays["probe"]
    real = np.fft.fftshift(np.fft.ifft2(probe, norm="ortho"), axes=(-2, -1))
    power = (np.abs(probe) ** 2).sum(axis=(1, 2))
    fig, axes = plt.subplots(1, len(probe), figsize=(3 * len(probe), 3), squeeze=False)
    for i, ax in enumerate(axes[0]):
        ax.imshow(np.abs(real[i]), cmap="magma")
        ax.set_title(f"mode {i}: {100 * power[i] / power.sum():.1f}%")
        ax.axis("off")
    fig.savefig(folder / "probe.png", dpi=100, bbox_inches="tight")
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5, 3.5))
    it = np.arange(1, len(history.loss) + 1)
    ax.plot(it, history.loss, label="loss")
    if min(history.loss) > 0:  # a Poisson NLL can be negative: log scale only when it is not
        ax.set_yscale("log")
    ax.set(xlabel="iteration", ylabel="loss")
    ax2 = ax.twinx()
    ax2.plot(it, history.data_error, color="C1", label="R-factor")
    ax2.set_ylabel("R-factor (data error)")
    fig.legend(loc="upper right")
    fig.savefig(folder / "convergence.png", dpi=100, bbox_inches="tight")
    plt.close(fig)
