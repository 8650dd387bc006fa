"""``ptyflow score``: its parser and its command (imports lazily, so ``--help`` is fast)."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from ptyflow.cli._options import check_outputs

__all__ = ["add_parser", "score"]

log = logging.getLogger("ptyflow")


def add_parser(sub: Any) -> None:
    """Register ``ptyflow score`` on the top-level subparsers ``sub``."""
    p = sub.add_parser(
        "score",
        help="compare a reconstruction with its ground truth (r, gain, FRC)",
        description="Register a result store's object phase (summed over slices) on a "
        "ground truth (S.truth/ from `ptyflow simulate` or `ptyflow import`) by a sub-pixel "
        "shift, keeping the result's own pixel size and origin, then report over the "
        "scanned field (the hull of the probe positions, minus a margin): Pearson r, the "
        "gain (least-squares slope of result on truth: 1 is the right contrast) and the "
        "FRC resolution at the 1/7 and half-bit thresholds.",
    )
    p.add_argument("result", type=Path, help="result store (from `ptyflow reconstruct`)")
    p.add_argument("--truth", type=Path, required=True, help="ground-truth directory (S.truth)")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write every metric as JSON")
    p.add_argument("--plot", type=Path, metavar="PNG", help="also save the comparison figure")
    p.add_argument(
        "--margin-A", type=float, default=1.0, help="Å cut inside the scanned field (default 1)"
    )
    p.add_argument(
        "--max-shift-A",
        type=float,
        default=2.0,
        help="registration search radius [Å] (default 2: under a lattice vector of common "
        "crystals, so no lattice-equivalent site is matched)",
    )
    p.add_argument("--fit-scale", action="store_true", help="also fit a pixel-scale factor")
    p.add_argument("--fit-rotation", action="store_true", help="also fit a rotation")
    p.add_argument(
        "--unwrap", action="store_true", help="2D-unwrap each slice's phase before summing"
    )
    p.add_argument(
        "--frc-k-min",
        type=float,
        default=0.2,
        metavar="INV_A",
        help="ignore FRC threshold crossings below this frequency [1/Å] (default 0.2: a "
        "crystal's rings inside its first Bragg ring hold almost no signal)",
    )
    p.set_defaults(func=score)


def score(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from ptyflow.score import plot_score, score_result

    check_outputs(args.json, args.plot)
    result, phase = score_result(
        args.result,
        args.truth,
        unwrap=args.unwrap,
        margin_A=args.margin_A,
        max_shift_A=args.max_shift_A,
        fit_scale=args.fit_scale,
        fit_rotation=args.fit_rotation,
        frc_k_min_inv_A=args.frc_k_min,
    )
    metrics = result.to_dict(curve=False)
    table = Table(title=f"{args.result} vs {args.truth}", show_header=False, title_justify="left")
    for key, value in metrics.items():
        if key != "warnings":
            table.add_row(key, f"{value:.4f}" if isinstance(value, float) else str(value))
    Console().print(table)
    for warning in result.warnings:
        log.warning(warning)
    if args.json:
        args.json.write_text(json.dumps(result.to_dict(), indent=2), encoding="utf-8")
        log.info("wrote %s", args.json)
    if args.plot:
        log.info("wrote %s", plot_score(result, phase, args.plot))
    return 0
