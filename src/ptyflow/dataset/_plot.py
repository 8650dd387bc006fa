"""A quick-look figure of a store: its live images and one diffraction pattern."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ptyflow.dataset._reader import Dataset
from ptyflow.errors import DatasetError

__all__ = ["plot_overview"]

_PANELS = (
    ("bf", "bright field"),
    ("adf", "annular dark field"),
    ("com_x", "CoM x"),
    ("com_y", "CoM y"),
)


def _check_figure_path(path: Path, formats: dict[str, str]) -> None:
    """Refuse, before any work, a figure path matplotlib cannot write."""
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in formats:
        raise DatasetError(
            f"{path}: cannot save a figure as {path.suffix or 'a file without an extension'!r}; "
            f"use one of {', '.join('.' + f for f in sorted(formats))}"
        )
    if not path.parent.is_dir():
        raise DatasetError(f"{path}: directory {path.parent} does not exist")


def plot_overview(ds: Dataset, out_path: str | Path) -> Path:
    """Save a PNG with the live images (missing frames blank) and the pattern at the scan centre.

    Time series show their first time step. The pattern is on a log scale, k = 0 marked.
    """
    import matplotlib

    matplotlib.use("Agg")  # files only; never needs a display
    import matplotlib.pyplot as plt
    from matplotlib.backend_bases import FigureCanvasBase

    out_path = Path(out_path)
    _check_figure_path(out_path, FigureCanvasBase.get_supported_filetypes())
    images = ds.live_images
    fig, axes = plt.subplots(1, len(_PANELS) + 1, figsize=(3.2 * (len(_PANELS) + 1), 3.4))
    for ax, (key, title) in zip(axes, _PANELS, strict=False):
        image = images[key].reshape(-1, *ds.nav_shape[-2:])[0]
        shown = ax.imshow(np.ma.masked_invalid(image), cmap="gray", interpolation="nearest")
        ax.set_title(title)
        ax.set_xlabel("scan x")
        ax.set_ylabel("scan y")
        fig.colorbar(shown, ax=ax, shrink=0.7)
    ax = axes[-1]
    received = np.argwhere(ds.frames_received)
    if received.size and ds.metadata.compression.kind != "virtual":
        centre = np.asarray(ds.nav_shape) // 2
        nearest = tuple(int(i) for i in received[np.argmin(np.abs(received - centre).sum(axis=1))])
        frame = np.asarray(ds.read_frame(nearest), dtype=np.float64)
        ax.imshow(np.log1p(np.clip(frame, 0, None)), cmap="magma", interpolation="nearest")
        cy, cx = ds.metadata.frame_grid.center_px  # binned frames have their own centre
        ax.plot([cx], [cy], "c+", markersize=10)
        ax.set_title(f"pattern at {nearest} (log)")
        ax.set_xlabel("kx [px]")
        ax.set_ylabel("ky [px]")
    elif (masks := ds.masks) is not None:  # virtual data: show what each signal integrates
        layout = np.where(masks.any(axis=0), np.argmax(np.abs(masks), axis=0), np.nan)
        ax.imshow(np.ma.masked_invalid(layout), cmap="turbo", interpolation="nearest")
        cy, cx = ds.metadata.frame_grid.center_px
        ax.plot([cx], [cy], "k+", markersize=10)
        ax.set_title(f"{len(masks)} masks (colour: strongest)")
        ax.set_xlabel("kx [px]")
        ax.set_ylabel("ky [px]")
    else:
        ax.set_axis_off()
        ax.set_title("no frames")
    state = ds.state.value
    fig.suptitle(f"{ds.path.name}: {state}, {ds.n_missing} frame(s) missing")
    fig.tight_layout()
    fig.savefig(out_path, dpi=110)
    plt.close(fig)
    return out_path
