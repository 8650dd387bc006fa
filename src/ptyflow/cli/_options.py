"""Options shared by several commands' parsers."""

from __future__ import annotations

import argparse
from pathlib import Path

from ptyflow.errors import PtyflowError

__all__ = ["add_overrides", "check_outputs"]


def add_overrides(p: argparse.ArgumentParser, *examples: str) -> argparse.ArgumentParser:
    """Add ``--set KEY=VALUE`` (repeatable) to ``p``; ``examples`` are overrides of this
    command's own config, shown in its help."""
    shown = " ".join(f"--set {example}" for example in examples)
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"override one config value, TOML syntax, e.g. {shown} (repeatable)",
    )
    return p


def check_outputs(*paths: Path | None) -> None:
    """Refuse, before any work, an output file (--json, --plot) whose directory is missing."""
    for path in paths:
        if path is not None and not path.parent.is_dir():
            raise PtyflowError(f"{path}: directory {path.parent} does not exist")
