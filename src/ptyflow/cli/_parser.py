"""The ``ptyflow`` argument parser, built in one place; commands live in ``_commands`` (and
one ``_<command>`` module each for the larger ones, with their own actions)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ptyflow import __version__
from ptyflow.cli import _acquire, _commands, _ingest, _reconstruct, _recover, _score
from ptyflow.cli._compress import add_compress_parser
from ptyflow.cli._options import add_overrides
from ptyflow.cli._provenance import add_provenance_parser
from ptyflow.cli._transfer import add_transfer_parser

__all__ = ["build_parser"]

_EPILOG = """\
The data flow: acquire -> compress -> dataset store -> transfer -> workflow -> reconstruct.
Every store and result carries a provenance record (see `ptyflow provenance --help`).
Docs: docs/architecture.md, docs/dataset-store.md, docs/conventions.md. Config templates with
every option documented: configs/.
"""


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
    add_overrides(p, "scan.shape=[32,32]", "dose.dose_e_per_A2=1e5")
    p.set_defaults(func=_commands.simulate)

    p = sub.add_parser(
        "info",
        help="summarise a dataset store or a result store",
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

    add_overrides(add_compress_parser(sub), "compress.kind=virtual")
    add_overrides(_reconstruct.add_parser(sub), "model.n_slices=6")
    _recover.add_parser(sub)
    add_provenance_parser(sub)
    add_transfer_parser(sub)

    add_overrides(_acquire.add_acquire_parsers(sub), "scan.shape=[64,64]")
    _ingest.add_parser(sub)
    _score.add_parser(sub)

    p = sub.add_parser(
        "demo",
        help="run the whole pipeline on a small simulated dataset",
        description="Simulate a small SrTiO3 dataset into a store with its ground truth, "
        "check it against the store contract, print its summary and save a quick-look "
        "figure, reconstruct it, score the reconstruction against the ground truth (Pearson "
        "r, gain, FRC) with a figure, and say where everything lives. About a minute on two "
        "CPU cores.",
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
