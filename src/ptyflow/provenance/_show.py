"""``provenance show``: the lineage from an artifact back to its first input, for people
(rich text) and for programs (JSON), from the same steps."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ptyflow.provenance._lineage import InputCheck, InputStatus, LineageStep, short
from ptyflow.provenance._record import ProvenanceRecord

__all__ = ["lineage_json", "render_show"]


def _ran_on(record: ProvenanceRecord) -> str:
    env = record.environment
    version = env.packages.get("ptyflow", "?")
    git = "" if env.git_commit is None else f" (git {env.git_commit[:10]}"
    git += ", uncommitted changes)" if env.git_dirty else ")" if git else ""
    gpu = f"{', '.join(env.gpus)} (CUDA {env.cuda})" if env.gpus else "no GPU"
    return (
        f"{env.user}@{env.host} · {env.platform} · Python {env.python} · "
        f"ptyflow {version}{git} · {env.cpu} ×{env.cpu_count} · {gpu}"
    )


def _when(record: ProvenanceRecord) -> str:
    start = f"{record.started_utc:%Y-%m-%d %H:%M:%S} UTC"
    if record.ended_utc is None:
        return f"{start} (never finished)"
    return f"{start}, {(record.ended_utc - record.started_utc).total_seconds():.1f} s"


def _input_line(check: InputCheck) -> str:
    ref = check.ref
    text = f"{Path(ref.path).name} {short(ref.content_hash, 12)}"
    text += f" record {short(ref.record_id, 8)}" if ref.record_id else " (no record)"
    if check.found_at is None:
        return f"{text} — {check.status.value}"
    if check.status is InputStatus.UNCHECKED:  # show reads records only
        return f"{text} — found at {check.found_at}"
    return f"{text} — {check.status.value}, at {check.found_at}"


def _step_table(step: LineageStep) -> Table:
    record = step.record
    table = Table.grid(padding=(0, 2))
    table.add_column(style="dim", no_wrap=True)
    table.add_column()
    signers = ", ".join(short(s.public_key, 12) for s in record.signatures) or "not signed"
    table.add_row("record", f"{record.record_id} ({short(record.record_hash or 'none', 12)})")
    table.add_row("when", _when(record))
    table.add_row("command", escape(shlex.join(record.command)))
    table.add_row("ran on", escape(_ran_on(record)))
    table.add_row("made", escape(", ".join(short(o.content_hash, 16) for o in record.outputs)))
    table.add_row("signed", escape(signers))
    if step.inputs:
        for i, check in enumerate(step.inputs):
            table.add_row("from" if i == 0 else "", escape(_input_line(check)))
    else:
        table.add_row("from", "nothing: the first step (the data began here)")
    return table


def render_show(steps: list[LineageStep]) -> RenderableType:
    """Each record from the artifact back to the first step, one block each."""
    blocks: list[RenderableType] = []
    for i, step in enumerate(steps):
        if i:
            blocks.append(Text("  ↓ made from", style="dim"))
        made_by = escape(step.record.activity)
        title = f"[bold]{escape(str(step.artifact))}[/bold] ← [bold]{made_by}[/bold]"
        blocks += [Text.from_markup(title), _step_table(step)]
    return Group(*blocks)


def lineage_json(steps: list[LineageStep]) -> dict[str, Any]:
    """The same lineage as JSON: each step's artifact, full record, and its inputs found."""
    return {
        "artifact": str(steps[0].artifact),
        "lineage": [
            {
                "artifact": str(step.artifact),
                "record": step.record.model_dump(mode="json"),
                "inputs": [
                    {
                        "ref": check.ref.model_dump(mode="json"),
                        "status": check.status.value,
                        "found_at": None if check.found_at is None else str(check.found_at),
                        "made_by": check.made_by,
                    }
                    for check in step.inputs
                ],
            }
            for step in steps
        ],
    }
