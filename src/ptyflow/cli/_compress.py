"""``ptyflow compress`` and ``ptyflow info --kernels``; imports happen when they run."""

from __future__ import annotations

import argparse
import logging

__all__ = ["add_compress_parser", "compress", "print_kernel_status"]

log = logging.getLogger("ptyflow")

_DESCRIPTION = """\
Compress a full-frame store into a new store that keeps, per frame, a binned frame
(kind bin: k×k pixel sums, exact, smallest safe unsigned dtype) or a few virtual-detector
signals (kind virtual: masks from presets in mrad, e.g. 4 rings × 8 segments; the masks are
stored). The frame grid is recalibrated, missing frames stay missing, live images come from
the same pass, and the provenance record names IN by content hash. Every option is
documented in configs/compress.toml."""

_EPILOG = """\
examples:
  ptyflow compress scan.zarr --out scan_bin2.zarr --config configs/compress.toml
  ptyflow compress scan.zarr --out scan_seg.zarr --config configs/compress.toml \\
      --set compress.kind=virtual
  ptyflow compress scan.zarr --out scan_bin4.zarr --config configs/compress.toml \\
      --set compress.bin.factor=4"""


def add_compress_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Register ``ptyflow compress`` (its ``--set`` is added by the caller)."""
    from pathlib import Path

    p = sub.add_parser(
        "compress",
        help="bin frames or reduce them to virtual-detector signals, into a new store",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("store", type=Path, help="full-frame dataset store to read (IN)")
    p.add_argument("--out", "-o", type=Path, required=True, help="store to create (*.zarr)")
    p.add_argument(
        "--config",
        type=Path,
        help="compress config (TOML, a [compress] section), e.g. configs/compress.toml; "
        "default: the built-in defaults (bin 2)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace an existing ptyflow store")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=compress)
    return p


def compress(args: argparse.Namespace) -> int:
    from ptyflow.compress import compress_store
    from ptyflow.config import apply_overrides, load_toml, validate_config
    from ptyflow.config.compress import CompressCommandConfig

    if args.config is None:
        data = apply_overrides({}, args.overrides)
        config = validate_config(data, CompressCommandConfig, "--set", overrides=args.overrides)
    else:
        config = load_toml(args.config, CompressCommandConfig, args.overrides)
    result = compress_store(
        args.store, args.out, config, overwrite=args.overwrite, progress=not args.no_progress
    )
    kind = config.compress.kind + (f", {result.mask_path} path" if result.mask_path else "")
    log.info(
        "wrote %s (%s) in %.1f s: data %.1f MB → %.1f MB (%.1f× smaller)",
        result.store,
        kind,
        result.seconds,
        result.bytes_in / 1e6,
        result.bytes_out / 1e6,
        result.bytes_in / max(result.bytes_out, 1),
    )
    return 0


def print_kernel_status() -> None:
    """Warm the compression kernels up and print whether they came from the disk cache."""
    from rich.console import Console
    from rich.table import Table

    from ptyflow.compress import kernel_status, warm_up_all

    seconds = warm_up_all()
    table = Table(title=f"compression kernels (ready in {seconds:.1f} s)", title_justify="left")
    for column in ("kernel", "signatures", "from disk cache", "compiled now"):
        table.add_column(column, justify="left" if column == "kernel" else "right")
    status = kernel_status()
    for s in status:
        table.add_row(s.name, str(s.signatures), str(s.cache_hits), str(s.compiled))
    console = Console()
    console.print(table)
    console.print(f"Numba cache: {status[0].cache_dir if status else '—'}")
    compiled = sum(s.compiled for s in status)
    console.print(
        "all kernels compiled and cached"
        if compiled == 0
        else f"{compiled} signature(s) compiled now and cached; the next run loads them"
    )
