"""Scoring a result store against a ground-truth directory, and the score figure."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ptyflow.dataset import read_truth
from ptyflow.errors import ProvenanceError, ScoreError
from ptyflow.provenance import read_record
from ptyflow.score._score import Score, score_phase

__all__ = ["plot_score", "result_phase", "score_result"]


def result_phase(obj: NDArray[np.complexfloating[Any, Any]], unwrap: bool) -> NDArray[np.float64]:
    """Σ over slices of each slice's phase [rad]; ``unwrap``: 2D-unwrap each slice first
    (a thick single-slice object can exceed π)."""
    phases = np.angle(obj).astype(np.float64)
    if unwrap:
        from skimage.restoration import unwrap_phase

        phases = np.stack([unwrap_phase(p) for p in phases])
    return phases.sum(axis=0)


def _same_dataset_warning(truth_dir: Path, dataset_hash: str) -> str | None:
    """A warning if the truth's record names its store and that is not the result's input."""
    try:
        inputs = read_record(truth_dir).inputs
    except ProvenanceError:
        return None
    hashes = {ref.content_hash for ref in inputs}
    if hashes and dataset_hash not in hashes:
        return (
            f"{truth_dir} describes a dataset with another content hash than the one this "
            f"result reconstructed ({dataset_hash[:19]}…): scoring against another truth?"
        )
    return None


def score_result(
    result_path: str | Path, truth_dir: str | Path, *, unwrap: bool = False, **options: Any
) -> tuple[Score, NDArray[np.float64]]:
    """Score the result store at ``result_path`` against ``truth_dir`` (``S.truth/``).

    The scored field is the convex hull of the result's own (refined) positions; ``options``
    go to :func:`score_phase`. Returns the score and the phase that was scored.
    """
    from ptyflow.reconstruct import open_result

    result = open_result(result_path)
    truth = read_truth(truth_dir)
    py, px = result.pixel_size_A
    if abs(py - px) > 1e-9 * px:
        raise ScoreError(f"{result_path}: pixels of {py} × {px} Å are not square")
    phase = result_phase(result.object, unwrap)
    score = score_phase(phase, px, result.origin_A, truth, field_A=result.positions_A, **options)
    if warning := _same_dataset_warning(Path(truth_dir), result.metadata.dataset_content_hash):
        score = replace(score, warnings=(*score.warnings, warning))
    return score, phase


def plot_score(score: Score, phase: NDArray[np.float64], path: str | Path) -> Path:
    """Save the registered truth, the result (gain and offset removed), their difference and
    the FRC curve as one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    truth = score.registered_truth
    inside = np.isfinite(truth)
    rows, cols = np.flatnonzero(inside.any(axis=1)), np.flatnonzero(inside.any(axis=0))
    box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    fitted = np.where(inside, (phase - score.offset_rad) / (score.gain or 1.0), np.nan)
    vmin, vmax = np.nanpercentile(truth, [0.5, 99.5])
    fig, axes = plt.subplots(1, 4, figsize=(16, 4.2))
    for ax, image, title in (
        (axes[0], truth[box], "truth (registered, band-limited)"),
        (axes[1], fitted[box], f"result / gain ({score.gain:.3f})"),
    ):
        ax.imshow(image, cmap="gray", vmin=vmin, vmax=vmax)
        ax.set_title(title)
    diff = (fitted - truth)[box]
    limit = float(np.nanmax(np.abs(diff))) or 1.0
    axes[2].imshow(diff, cmap="RdBu", vmin=-limit, vmax=limit)
    axes[2].set_title("difference [rad]")
    frc = score.frc
    axes[3].plot(frc.k_inv_A, frc.frc, label="FRC")
    axes[3].plot(frc.k_inv_A, frc.half_bit, label="half-bit")
    axes[3].axhline(1 / 7, ls="--", c="k", label="1/7")
    axes[3].set(xlabel="k [1/Å]", ylim=(-0.2, 1.05), title="Fourier ring correlation")
    axes[3].legend()
    for ax in axes[:3]:
        ax.set_axis_off()
    fig.suptitle(
        f"r = {score.pearson_r:.4f}, gain = {score.gain:.3f}, "
        f"FRC(1/7) = {score.frc.resolution_A:.2f} Å"
    )
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
