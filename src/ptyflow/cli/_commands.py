"""Thin command functions: each imports what it needs when it runs, so ``--help`` is fast."""

from __future__ import annotations

import argparse
import logging
import sys

__all__ = [
    "demo",
    "info",
    "provenance_export",
    "provenance_lineage",
    "provenance_show",
    "provenance_verify",
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
        print("ptyflow info: error: give a STORE (or --kernels)", file=sys.stderr)
        return 2
    if is_result_store(args.store):
        from ptyflow.cli._reconstruct import result_info

        return result_info(args.store)
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


def provenance_show(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ptyflow.provenance import read_record

    Console().print_json(read_record(args.artifact).model_dump_json())
    return 0


def provenance_verify(args: argparse.Namespace) -> int:
    from ptyflow.provenance import verify_artifact

    check = verify_artifact(args.artifact)
    status = "verified" if check.ok else "MISMATCH"
    print(f"{args.artifact}: {status} (record {check.record_id})")
    print(f"  recorded: {check.expected_hash}\n  actual:   {check.actual_hash}")
    for problem in check.problems:
        print(f"  {problem}")
    return 0 if check.ok else 1


def provenance_lineage(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ptyflow.provenance import InputStatus, lineage, render_lineage

    steps = lineage(args.artifact, rehash=not args.no_rehash)
    Console().print(render_lineage(steps))
    bad = {InputStatus.CHANGED, InputStatus.UNRESOLVED}
    return 1 if any(c.status in bad for step in steps for c in step.inputs) else 0


def provenance_export(args: argparse.Namespace) -> int:
    from ptyflow.errors import ProvenanceError
    from ptyflow.provenance import lineage, to_prov, to_ro_crate

    if args.format == "ro-crate":
        if args.out is None:
            raise ProvenanceError("--format ro-crate needs --out DIRECTORY for the crate")
        log.info("wrote %s", to_ro_crate(args.artifact, args.out))
        return 0
    # Only the records are exported: no need to rehash the inputs.
    doc = to_prov(step.record for step in lineage(args.artifact, rehash=False))
    prov_format = "json" if args.format == "prov-json" else "provn"
    if args.out is None:
        doc.serialize(sys.stdout, format=prov_format, indent=2)
        print()  # the document ends without a newline
    else:
        doc.serialize(args.out, format=prov_format, indent=2)
        log.info("wrote %s", args.out)
    return 0


def demo(args: argparse.Namespace) -> int:
    from ptyflow.demo import run_demo

    run_demo(args.out, progress=not args.no_progress)
    return 0
