"""The ``ptyflow`` argument parser, built in one place; commands live in ``_commands``."""

from __future__ import annotations

import argparse
from pathlib import Path

from ptyflow import __version__
from ptyflow.cli import _commands, _ingest, _reconstruct, _score
from ptyflow.cli._compress import add_compress_parser
from ptyflow.cli._transfer import add_transfer_parser

__all__ = ["build_parser"]

_EPILOG = """\
The data flow: acquire -> compress -> dataset store -> transfer -> workflow -> reconstruct.
Every store and result carries a provenance record (see `ptyflow provenance --help`).
Docs: docs/architecture.md, docs/dataset-store.md, docs/conventions.md. Config templates with
every option documented: configs/.
"""


def _add_overrides(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one config value, TOML syntax, e.g. --set scan.shape=[32,32] "
        "--set dose.dose_e_per_A2=1e5 (repeatable)",
    )


def _add_provenance_actions(p: argparse.ArgumentParser) -> None:
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    artifact_help = "a store, result directory or file"

    a = actions.add_parser("show", help="print the record as JSON")
    a.add_argument("artifact", type=Path, help=artifact_help)
    a.set_defaults(func=_commands.provenance_show)

    a = actions.add_parser(
        "verify",
        help="check the artifact still hashes to what its record says",
        description="Recompute the artifact's content hash (reads all its bytes) and compare "
        "it with its record. Exits 1 on a mismatch.",
    )
    a.add_argument("artifact", type=Path, help=artifact_help)
    a.set_defaults(func=_commands.provenance_verify)

    a = actions.add_parser(
        "lineage",
        help="trace the records of the inputs back, checking each input",
        description="Print the chain of records behind the artifact as a tree: each artifact "
        "with the activity, start time and record id that made it, and below it its inputs "
        "with their recorded content hash and ✓ if each still hashes to it (✗ if it changed "
        "or is no longer at its recorded path). Ids and hashes are shortened; `provenance "
        "show` prints them in full. Exits 1 if any input changed or was not found.",
    )
    a.add_argument("artifact", type=Path, help=artifact_help)
    a.add_argument(
        "--no-rehash",
        action="store_true",
        help="do not recompute the inputs' content hashes (which reads all their bytes)",
    )
    a.set_defaults(func=_commands.provenance_lineage)

    a = actions.add_parser(
        "export",
        help="export the lineage as W3C PROV or RO-Crate",
        description="Export the records behind the artifact (its lineage) as W3C PROV "
        "(PROV-JSON or PROV-N) or as an RO-Crate (Process Run Crate profile). Artifacts are "
        "identified by content hash; no data is copied.",
    )
    a.add_argument("artifact", type=Path, help=artifact_help)
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
    a.set_defaults(func=_commands.provenance_export)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ptyflow",
        description="4D-STEM electron ptychography from the detector to a reconstructed "
        "phase image, with a verifiable record of how every result was made.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"ptyflow {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "simulate",
        help="simulate a 4D-STEM dataset store with exact ground truth",
        description="Simulate a 4D-STEM scan (multislice through a built-in crystal or a "
        "user phase image, with aberrations, dose and Poisson noise) into a dataset store. "
        "The exact ground truth (object phase, probe, positions) is written beside it in "
        "STORE_STEM.truth/. Both carry provenance records.",
    )
    p.add_argument("config", type=Path, help="simulation config (TOML), e.g. configs/simulate.toml")
    p.add_argument("--out", "-o", type=Path, required=True, help="store to create (*.zarr)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing ptyflow store")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="check the config and the physics, print what would be simulated, write nothing",
    )
    _add_overrides(p)
    p.set_defaults(func=_commands.simulate)

    p = sub.add_parser(
        "info",
        help="summarise a dataset store",
        description="Print a readable summary of a dataset store: shape, dtype, chunking, "
        "compression ratio, state, frames missing, acquisition metadata with units and the "
        "provenance record. Exits 1 if the store breaks the contract (or, with --verify, a "
        "file no longer matches the manifest), 2 if it cannot be opened at all.",
    )
    p.add_argument("store", type=Path, nargs="?", help="dataset store or result store directory")
    p.add_argument(
        "--kernels",
        action="store_true",
        help="report whether the compression kernels are compiled and in Numba's disk cache "
        "(compiles them if not); STORE is then optional",
    )
    p.add_argument(
        "--verify", action="store_true", help="also recompute every file checksum (reads all data)"
    )
    p.add_argument(
        "--plot", type=Path, metavar="PNG", help="also save a quick-look figure (live images)"
    )
    p.set_defaults(func=_commands.info)

    _reconstruct.add_parser(sub)
    _add_overrides(add_compress_parser(sub))

    p = sub.add_parser(
        "provenance",
        help="show, verify, trace or export the provenance of an artifact",
        description="Every store, result and file ptyflow writes carries a provenance record "
        "(ARTIFACT/provenance.json, or FILE.prov.json beside a file): what made it, from which "
        "inputs, and its content hash. See `ptyflow provenance ACTION --help`.",
        epilog="examples:\n"
        "  ptyflow provenance verify scan.zarr\n"
        "  ptyflow provenance lineage scan.truth\n"
        "  ptyflow provenance export scan.truth --format prov-n --out scan.truth.provn\n"
        "  ptyflow provenance export scan.truth --format ro-crate --out scan-crate/",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_provenance_actions(p)
    add_transfer_parser(sub)

    _ingest.add_parser(sub, _add_overrides)
    _score.add_parser(sub)

    p = sub.add_parser(
        "demo",
        help="run the whole pipeline on a small simulated dataset",
        description="Simulate a small SrTiO3 dataset into a store with its ground truth, "
        "check it against the store contract, print its summary, save a quick-look figure and "
        "say where everything lives. Later stages of the pipeline join the demo as they are "
        "built.",
    )
    p.add_argument(
        "--out",
        "-o",
        type=Path,
        default=Path("ptyflow-demo"),
        help="demo folder (default: %(default)s)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_commands.demo)
    return parser
