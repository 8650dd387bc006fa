"""``ptyflow provenance``: its parser and its thin commands (imports happen when one runs)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ptyflow.config.provenance import ProvenanceConfig

__all__ = ["add_provenance_parser"]

log = logging.getLogger("ptyflow")

_ARTIFACT_HELP = "a store, result directory or file"
_EXAMPLES = """\
examples:
  ptyflow provenance show result.zarr                       # the chain back to the detector
  ptyflow provenance verify result.zarr --ancestors         # recheck it and every ancestor
  ptyflow provenance verify copy/result.zarr --ancestors --search /archive
  ptyflow provenance lineage scan.truth
  ptyflow provenance rerun scan.zarr --out rerun.zarr       # re-execute, compare bit for bit
  ptyflow provenance keygen --out facility.key
  ptyflow provenance sign result.zarr --key facility.key
  ptyflow provenance export scan.truth --format ro-crate --out scan-crate/
"""


def _config(args: argparse.Namespace) -> ProvenanceConfig:
    from ptyflow.config.provenance import load_provenance_config

    return load_provenance_config(args.config)


def _search(args: argparse.Namespace) -> list[Path]:
    return [*args.search, *_config(args).search.paths]


def _show(args: argparse.Namespace) -> int:
    import json

    from rich.console import Console

    from ptyflow.provenance import lineage, lineage_json, render_show

    steps = lineage(args.artifact, rehash=False, search=_search(args))
    if args.json:
        print(json.dumps(lineage_json(steps), indent=2))
    else:
        Console(soft_wrap=True).print(render_show(steps))
    return 0


def _verify(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.filesize import decimal
    from rich.markup import escape
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    from ptyflow.provenance import Trust, verify_chain

    config = _config(args)
    trust = Trust(keys=config.trust.keys, require_signature=config.trust.require_signature)
    console = Console(stderr=True)
    bar = Progress(
        TextColumn("verify"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=args.no_progress,
    )
    with bar:
        task = bar.add_task("verify", total=None)
        report = verify_chain(
            args.artifact,
            ancestors=args.ancestors,
            search=[*args.search, *config.search.paths],
            trust=trust,
            threads=args.threads or config.verify.threads,
            on_total=lambda n: bar.update(task, total=n),
            on_bytes=lambda n: bar.advance(task, n),
        )
    out = Console(highlight=False, soft_wrap=True)  # one line per problem, for grep
    for note in report.notes:
        out.print(f"note: {escape(note)}")
    for problem in report.problems:
        out.print(f"[red]FAILED[/red] {escape(str(problem))}")
    what = f"{len(report.steps)} record(s)" if args.ancestors else "the artifact"
    rate = decimal(int(report.bytes_hashed / max(report.seconds, 1e-9)))
    summary = (
        f"{what}, {report.files_hashed} files, {decimal(report.bytes_hashed)} "
        f"in {report.seconds:.2f} s ({rate}/s)"
    )
    if report.ok:
        out.print(f"[green]verified[/green] {escape(str(args.artifact))}: {summary}")
        return 0
    out.print(
        f"[red]{len(report.problems)} problem(s)[/red] in {escape(str(args.artifact))}: {summary}"
    )
    return 1


def _lineage(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ptyflow.provenance import InputStatus, lineage, render_lineage

    steps = lineage(args.artifact, rehash=not args.no_rehash, search=_search(args))
    Console().print(render_lineage(steps))
    ok = {InputStatus.MATCHES, InputStatus.UNCHECKED}
    return 0 if all(c.status in ok for step in steps for c in step.inputs) else 1


def _rerun(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from ptyflow.provenance import Match, rerun

    report = rerun(args.artifact, args.out, search=_search(args))
    table = Table(
        title=f"{report.activity}: {report.original} vs {report.new}", title_justify="left"
    )
    table.add_column("file")
    table.add_column("match")
    table.add_column("note")
    colour = {Match.IDENTICAL: "green", Match.EQUIVALENT: "green"}
    for f in report.files:
        style = colour.get(f.match, "red")
        table.add_row(f.path or report.original.name, f"[{style}]{f.match.value}[/{style}]", f.note)
    console = Console()
    console.print(table)
    verdict = "reproduced" if report.reproduced else "[red]NOT reproduced[/red]"
    console.print(f"{verdict} ({report.criterion}): {len(report.files)} file(s) compared")
    return 0 if report.reproduced else 1


def _sign(args: argparse.Namespace) -> int:
    from ptyflow.provenance import record_path, sign_record

    signature = sign_record(args.artifact, args.key)
    print(f"signed {record_path(args.artifact)} with {signature.public_key}")
    return 0


def _keygen(args: argparse.Namespace) -> int:
    from ptyflow.provenance import generate_key

    path, public = generate_key(args.out)
    print(f"private key: {path} (keep it secret)\npublic key:  {path}.pub\n{public}")
    print(f'trust it in a provenance config: [trust] keys = {{ NAME = "{public}" }}')
    return 0


def _export(args: argparse.Namespace) -> int:
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


def _add_lookup(p: argparse.ArgumentParser) -> None:
    """The artifact, and where its inputs may be found."""
    p.add_argument("artifact", type=Path, help=_ARTIFACT_HELP)
    p.add_argument(
        "--search",
        action="append",
        type=Path,
        default=[],
        metavar="DIR",
        help="also look for inputs (by record id and content hash) under DIR, after the "
        "recorded path and the artifact's own directory (repeatable)",
    )
    p.add_argument(
        "--config",
        type=Path,
        metavar="TOML",
        help="provenance config: trusted keys, search paths (default: "
        "$PTYFLOW_PROVENANCE_CONFIG if set; template: configs/provenance.toml)",
    )


def add_provenance_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``ptyflow provenance`` and its actions to the top-level subparsers."""
    p = sub.add_parser(
        "provenance",
        help="show, verify, trace, re-run, sign or export the provenance of an artifact",
        description="Every store, result and file ptyflow writes carries a provenance record "
        "(ARTIFACT/provenance.json, or FILE.prov.json beside a file): what made it, from which "
        "inputs, its content hash and its own record hash. Inputs are found by record id and "
        "content hash, so the chain survives rsync. See docs/provenance.md and "
        "`ptyflow provenance ACTION --help`.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    a = actions.add_parser(
        "show",
        help="print the lineage back to the first input, readably or as JSON",
        description="Print each record from the artifact back to the first step (the "
        "detector series or the simulation): what ran, when, the command, where it ran "
        "(host, versions, git commit, CPU/GPU), what it made, signatures, and its inputs "
        "with where they were found. Reads records only; `verify` rechecks the bytes.",
    )
    _add_lookup(a)
    a.add_argument("--json", action="store_true", help="the same lineage as JSON (full records)")
    a.set_defaults(func=_show)

    a = actions.add_parser(
        "verify",
        help="recheck the artifact (and its ancestors): content, record hashes, signatures",
        description="Rehash the artifact's files in parallel threads and compare them with "
        "its manifest and record; check that its record is unedited (record hash) and its "
        "signatures hold. With --ancestors, do the same for every ancestor it can reach and "
        "check each link (the parent is found, and its record is the one the child used). "
        "Every changed, missing or unlisted file, edited record, broken link or bad "
        "signature is named. Exits 1 if anything fails, 2 if the artifact has no record.",
    )
    _add_lookup(a)
    a.add_argument("--ancestors", action="store_true", help="also verify every ancestor")
    a.add_argument("--threads", type=int, metavar="N", help="hashing threads (default: cores)")
    a.add_argument("--no-progress", action="store_true", help="no progress bar")
    a.set_defaults(func=_verify)

    a = actions.add_parser(
        "lineage",
        help="trace the records of the inputs back as a tree, checking each input",
        description="Print the chain of records behind the artifact as a tree: each artifact "
        "with the activity, start time and record id that made it, and below it its inputs "
        "with their recorded content hash and ✓ if each still hashes to it (✗ if it changed, "
        "was replaced, or was not found). Exits 1 if any input is not as it was used.",
    )
    _add_lookup(a)
    a.add_argument(
        "--no-rehash",
        action="store_true",
        help="do not recompute the inputs' content hashes (which reads all their bytes)",
    )
    a.set_defaults(func=_lineage)

    a = actions.add_parser(
        "rerun",
        help="re-execute the step that made the artifact and compare the outputs",
        description="Run the recorded step again with its recorded resolved config and its "
        "inputs (found by record id and content hash), into --out, then compare the new "
        "output with the artifact file by file: bit-identical for deterministic CPU steps "
        "(simulate), within the step's stated tolerance otherwise. For a ground truth "
        "(NAME.truth) the new store and truth are OUT.zarr and OUT.truth. Exits 1 if "
        "not reproduced.",
    )
    _add_lookup(a)
    a.add_argument("--out", "-o", type=Path, required=True, help="where to write the new output")
    a.set_defaults(func=_rerun)

    a = actions.add_parser(
        "sign",
        help="add an Ed25519 signature to the artifact's record",
        description="Sign the record's canonical content with a private key (made by "
        "`keygen`). The record holds its outputs' content hashes and its inputs' record "
        "hashes, so one signature vouches for the whole chain behind it. Refuses a record "
        "that no longer matches its record hash.",
    )
    a.add_argument("artifact", type=Path, help=_ARTIFACT_HELP)
    a.add_argument("--key", type=Path, required=True, help="private key file (PEM)")
    a.set_defaults(func=_sign)

    a = actions.add_parser(
        "keygen",
        help="make an Ed25519 key pair for signing records",
        description="Write a new private key (PEM, readable by you only) to --out and its "
        "public key to OUT.pub, and print the public key line for [trust].keys.",
    )
    a.add_argument("--out", "-o", type=Path, required=True, help="private key file to create")
    a.set_defaults(func=_keygen)

    a = actions.add_parser(
        "export",
        help="export the lineage as W3C PROV or RO-Crate",
        description="Export the records behind the artifact (its lineage) as W3C PROV "
        "(PROV-JSON or PROV-N) or as an RO-Crate (Process Run Crate profile). Artifacts are "
        "identified by content hash; no data is copied.",
    )
    a.add_argument("artifact", type=Path, help=_ARTIFACT_HELP)
    a.add_argument(
        "--format",
        choices=["prov-json", "prov-n", "ro-crate"],
        default="prov-json",
        help="output format (default: %(default)s)",
    )
    a.add_argument(
        "--out",
        "-o",
        type=Path,
        metavar="PATH",
        help="file to write (prov-json, prov-n; default: standard output) or crate "
        "directory to create (ro-crate; required)",
    )
    a.set_defaults(func=_export)
