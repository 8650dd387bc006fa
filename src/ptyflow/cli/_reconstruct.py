"""``ptyflow reconstruct`` and the result-store view of ``ptyflow info`` (lazy imports)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

__all__ = ["add_parser", "reconstruct", "result_info"]

log = logging.getLogger("ptyflow")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Register ``reconstruct`` (``_parser.build_parser`` adds ``--set``)."""
    p = sub.add_parser(
        "reconstruct",
        help="reconstruct a dataset store by autodiff ptychography (CPU or CUDA)",
        description="Reconstruct the object (single-slice or multislice), the probe (modes, "
        "optionally its aberrations) and the scan positions from a dataset store: pixelated, "
        "binned or virtual-detector data, each modelled in its own measured domain. Writes a "
        "result store (docs/result-store.md) with figures (phase.png, probe.png, "
        "convergence.png, phase.tif) and a provenance record naming the dataset by content "
        "hash. Exit 2 on bad input.",
        epilog="example:\n  ptyflow reconstruct scan.zarr --config configs/reconstruct.toml "
        "--out scan.result.zarr --set model.n_slices=6 --set model.slice_thickness_A=3.9",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("store", type=Path, help="dataset store to reconstruct (*.zarr)")
    p.add_argument(
        "--config", "-c", type=Path, help="reconstruct config (TOML); default: all defaults"
    )
    p.add_argument("--out", "-o", type=Path, required=True, help="result store to write")
    p.add_argument("--device", help="torch device (cpu, cuda, cuda:1); overrides engine.device")
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted run from OUT.checkpoint.pt (same config and store)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace an existing result store")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=reconstruct)
    return p


def reconstruct(args: argparse.Namespace) -> int:
    from ptyflow.config import apply_overrides, load_toml, validate_config
    from ptyflow.config.reconstruct import ReconstructConfig
    from ptyflow.reconstruct import run_reconstruction

    overrides = list(args.overrides) + ([f"engine.device={args.device!r}"] if args.device else [])
    if args.config is not None:
        config = load_toml(args.config, ReconstructConfig, overrides)
    else:
        config = validate_config(apply_overrides({}, overrides), ReconstructConfig, "--set")
    run = run_reconstruction(
        args.store,
        config,
        args.out,
        resume=args.resume,
        overwrite=args.overwrite,
        progress=not args.no_progress,
    )
    log.info(
        "wrote %s: %d iterations, %s loss %.4g, R-factor %.4f, %.3f s/iteration",
        run.result,
        len(run.loss),
        run.loss_name,
        run.loss[-1],
        run.data_error[-1],
        sum(run.seconds_per_iteration) / len(run.seconds_per_iteration),
    )
    return 0


def result_info(path: Path) -> int:
    """Print a result store's summary (``ptyflow info RESULT``)."""
    from rich.console import Console
    from rich.table import Table

    from ptyflow.provenance import read_record
    from ptyflow.reconstruct import open_result

    result = open_result(path)
    m = result.metadata
    table = Table(title=f"result store {path}", title_justify="left", show_header=False, box=None)
    rows = [
        ("object", f"{result.object.shape} complex64 (slice, y, x)"),
        ("pixel size", f"{m.pixel_size_A[0]:.4f} × {m.pixel_size_A[1]:.4f} Å"),
        ("origin", f"({m.origin_A[0]:.3f}, {m.origin_A[1]:.3f}) Å in the scan frame"),
        ("slices", f"{m.n_slices} × {m.slice_thickness_A:g} Å"),
        ("probe modes", f"{result.probe.shape[0]} of {result.probe.shape[1:]} px"),
        ("positions", f"{len(result.positions_A)}"),
        (
            "iterations",
            f"{m.iterations}, final loss {result.loss[-1]:.4g}" if len(result.loss) else "0",
        ),
        ("energy", f"{m.energy_eV / 1e3:g} keV"),
        ("dataset", m.dataset_content_hash),
    ]
    try:
        record = read_record(path)
        rows.append(("made", f"{record.activity} at {record.started_utc:%Y-%m-%d %H:%M:%S} UTC"))
    except Exception:  # a result without a record is still a result
        rows.append(("provenance", "no record"))
    for key, value in rows:
        table.add_row(key, value)
    Console().print(table)
    return 0
