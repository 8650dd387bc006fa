"""``ptyflow import``: its parser and its command (imports lazily, so ``--help`` is fast)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from ptyflow.cli._options import add_overrides

__all__ = ["add_parser", "import_"]

log = logging.getLogger("ptyflow")


def add_parser(sub: Any) -> None:
    """Register ``ptyflow import`` on the top-level subparsers ``sub``."""
    p = sub.add_parser(
        "import",
        help="import a 4D array (.npy, HDF5, py4DSTEM EMD) into a dataset store",
        description="Turn a 4D-STEM array from a .npy or HDF5 file (a dataset path inside "
        "it; py4DSTEM EMD files are HDF5) into a dataset store, a band of scan rows at a "
        "time. Beam, scan and detector calibration come from the config; the store's "
        "provenance record names the source file by content hash. Integral counts (also "
        "float32 Poisson counts) are stored exactly as integers, anything else as float32. "
        "With a [truth] section the ground-truth phase goes into STORE_STEM.truth/ for "
        "`ptyflow score`.",
    )
    p.add_argument("data", type=Path, help="the data file (.npy, .h5, .hdf5, .emd, ...)")
    p.add_argument(
        "--config", "-c", type=Path, required=True, help="import config (configs/import.toml)"
    )
    p.add_argument("--out", "-o", type=Path, required=True, help="store to create (*.zarr)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing ptyflow store")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_overrides(p, "scan.shape=[32,32]", "beam.energy_eV=3e5")
    p.set_defaults(func=import_)


def import_(args: argparse.Namespace) -> int:
    from ptyflow.config import load_toml
    from ptyflow.config.import_ import ImportConfig
    from ptyflow.ingest import run_import

    config = load_toml(args.config, ImportConfig, args.overrides)
    result = run_import(
        config, args.data, args.out, overwrite=args.overwrite, progress=not args.no_progress
    )
    missing = f", {result.n_missing} frame(s) missing" if result.n_missing else ""
    log.info("wrote %s (%s%s) in %.1f s", result.store, result.dtype, missing, result.seconds)
    if result.truth is not None:
        log.info("ground truth in %s", result.truth)
    return 0
