"""``ptyflow provenance``: its parser; the actions are in ``_provenance_actions``."""

from __future__ import annotations

import argparse
from pathlib import Path

from ptyflow.cli import _provenance_actions as run

__all__ = ["add_provenance_parser"]

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
    a.set_defaults(func=run.show)

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
    a.set_defaults(func=run.verify)

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
    a.set_defaults(func=run.lineage)

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
    a.set_defaults(func=run.rerun)

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
    a.set_defaults(func=run.sign)

    a = actions.add_parser(
        "keygen",
        help="make an Ed25519 key pair for signing records",
        description="Write a new private key (PEM, readable by you only) to --out and its "
        "public key to OUT.pub, and print the public key line for [trust].keys.",
    )
    a.add_argument("--out", "-o", type=Path, required=True, help="private key file to create")
    a.set_defaults(func=run.keygen)

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
    a.set_defaults(func=run.export)
