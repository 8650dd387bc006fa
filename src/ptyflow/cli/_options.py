"""Options shared by several commands' parsers."""

from __future__ import annotations

import argparse

__all__ = ["add_overrides"]


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
