"""Thin command functions: each imports what it needs when it runs, so ``--help`` is fast."""

from __future__ import annotations

import argparse
import logging
import sys

from ptyflow.cli._options import check_outputs
from ptyflow.errors import PtyflowError

__all__ = [
    "demo",
    "info",
    "simulate",
]

log = logging.getLogger("ptyflow")


def simulate(args: argparse.Namespace) -> int:
    from ptyflow.config import load_toml
    from ptyflow.config.simulate import SimulateConfig
    from ptyflow.simulate import plan_simulation, run_simulation, truth_path

    config = load_toml(args.config, SimulateConfig, args.overrides)
    truth_path(args.out)  # refuses an --out that cannot name a store, before any work
    if args.dry_run:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"would write {args.out}", show_header=False, title_justify="left")
        for label, text in plan_simulation(config, args.out).summary():
            table.add_row(label, text)
        Console().print(table)
        return 0
    result = run_simulation(
        config, args.out, overwrite=args.overwrite, progress=not args.no_progress
    )
    log.info("wrote %s (ground truth in %s) in %.1f s", result.store, result.truth, result.seconds)
    return 0


def info(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ptyflow.dataset import open_dataset, plot_overview, render_info, validate_dataset
    from ptyflow.reconstruct import is_result_store

    if args.kernels:
        from ptyflow.cli._compress import print_kernel_status

        print_kernel_status()
        if args.store is None:
            return 0
    elif args.store is None:
        raise PtyflowError("give a STORE (or --kernels)")
    if is_result_store(args.store):
        from ptyflow.cli._reconstruct import result_info

        if args.plot:
            raise PtyflowError(
                f"--plot draws a dataset store; the result store {args.store} holds its own "
                "figures (phase.png, convergence.png)"
            )
        return result_info(args.store)
    check_outputs(args.plot)
    console = Console()
    console.print(render_info(args.store, verify_checksums=False))
    if args.plot:
        console.print(f"quick look: {plot_overview(open_dataset(args.store), args.plot)}")
    # The one checksum pass (with --verify) is the validation's, so a mismatch sets the exit code.
    problems = validate_dataset(args.store, verify_checksums=args.verify)
    for problem in problems:
        print(f"invalid: {problem}", file=sys.stderr)
    if not problems:
        checked = (
            "every file matches the manifest"
            if args.verify
            else "not rehashed (add --verify to rehash)"
        )
        console.print(f"[green]valid[/green]: store follows the contract; checksums {checked}")
    return 1 if problems else 0


def demo(args: argparse.Namespace) -> int:
    from ptyflow.demo import run_demo

    run_demo(args.out, progress=not args.no_progress)
    return 0
