"""The actions of ``ptyflow provenance`` (show, verify, lineage, rerun, sign, keygen,
export): thin functions of the parsed arguments, importing what they use when they run."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ptyflow.config.provenance import ProvenanceConfig

__all__ = ["export", "keygen", "lineage", "rerun", "show", "sign", "verify"]

log = logging.getLogger("ptyflow")


def _config(args: argparse.Namespace) -> ProvenanceConfig:
    from ptyflow.config.provenance import load_provenance_config

    return load_provenance_config(args.config)


def _search(args: argparse.Namespace) -> list[Path]:
    return [*args.search, *_config(args).search.paths]


def show(args: argparse.Namespace) -> int:
    import json

    from rich.console import Console

    from ptyflow import provenance
    from ptyflow.provenance import lineage_json, render_show

    steps = provenance.lineage(args.artifact, rehash=False, search=_search(args))
    if args.json:
        print(json.dumps(lineage_json(steps), indent=2))
    else:
        Console(soft_wrap=True).print(render_show(steps))
    return 0


def verify(args: argparse.Namespace) -> int:
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
        disable=args.no_progress or not console.is_terminal,  # piped: no stray blank line
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


def lineage(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ptyflow import provenance
    from ptyflow.provenance import InputStatus, render_lineage

    steps = provenance.lineage(args.artifact, rehash=not args.no_rehash, search=_search(args))
    Console().print(render_lineage(steps))
    ok = {InputStatus.MATCHES, InputStatus.UNCHECKED}
    return 0 if all(c.status in ok for step in steps for c in step.inputs) else 1


def rerun(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from ptyflow import provenance
    from ptyflow.provenance import Match

    report = provenance.rerun(args.artifact, args.out, search=_search(args))
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


def sign(args: argparse.Namespace) -> int:
    from ptyflow.provenance import record_path, sign_record

    signature = sign_record(args.artifact, args.key)
    print(f"signed {record_path(args.artifact)} with {signature.public_key}")
    return 0


def keygen(args: argparse.Namespace) -> int:
    from ptyflow.provenance import generate_key

    path, public = generate_key(args.out)
    print(f"private key: {path} (keep it secret)\npublic key:  {path}.pub\n{public}")
    print(f'trust it in a provenance config: [trust] keys = {{ NAME = "{public}" }}')
    return 0


def export(args: argparse.Namespace) -> int:
    from ptyflow import provenance
    from ptyflow.errors import ProvenanceError
    from ptyflow.provenance import to_prov, to_ro_crate

    if args.format == "ro-crate":
        if args.out is None:
            raise ProvenanceError("--format ro-crate needs --out DIRECTORY for the crate")
        log.info("wrote %s", to_ro_crate(args.artifact, args.out))
        return 0
    # Only the records are exported: no need to rehash the inputs.
    doc = to_prov(step.record for step in provenance.lineage(args.artifact, rehash=False))
    prov_format = "json" if args.format == "prov-json" else "provn"
    if args.out is None:
        doc.serialize(sys.stdout, format=prov_format, indent=2)
        print()  # the document ends without a newline
    else:
        doc.serialize(args.out, format=prov_format, indent=2)
        log.info("wrote %s", args.out)
    return 0
