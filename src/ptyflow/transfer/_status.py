"""``ptyflow transfer status``: the queue as a table a person reads at a glance."""

from __future__ import annotations

import time
from collections import Counter

from rich.markup import escape
from rich.table import Table

from ptyflow.transfer._queue import QueueItem, State

__all__ = ["render_status"]

_STYLE = {
    State.ACQUIRING: "cyan",
    State.PENDING: "yellow",
    State.IN_FLIGHT: "blue",
    State.VERIFIED: "green",
    State.FAILED: "red",
}


def _note(item: QueueItem) -> str:
    if item.state is State.VERIFIED:
        gone = ", local copy deleted" if item.local_deleted else ""
        return f"{item.verified_utc} {(item.tree_hash or '')[:19]}{gone}"
    if item.state is State.PENDING and item.reason:
        wait_s = max(0.0, item.next_try - time.time())
        return f"retry in {wait_s:.0f} s after: {item.reason}"
    return item.reason or ""


def render_status(items: list[QueueItem]) -> Table:
    """One row per store: state, size, rate of the verified transfer, attempts, why."""
    counts = Counter(item.state for item in items)
    summary = ", ".join(f"{counts.get(s, 0)} {s.value}" for s in State)
    table = Table(title=f"transfer queue: {summary}", title_justify="left")
    for column in ("store", "state", "MB", "MB/s", "attempts", "since", "reason / result"):
        table.add_column(column, overflow="fold")
    for item in items:
        rate = item.rate_MB_per_s
        table.add_row(
            escape(item.name),
            f"[{_STYLE[item.state]}]{item.state.value}[/]",
            "" if item.size_bytes is None else f"{item.size_bytes / 1e6:.1f}",
            "" if rate is None else f"{rate:.1f}",
            str(item.attempts),
            item.updated_utc,
            escape(_note(item)),
        )
    return table
