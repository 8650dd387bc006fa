"""Lineage: follow an artifact's record back through the records of its inputs.

A record lists its inputs by path, content hash and record id as they were when it ran.
Following an input means reading the record found at that path *now* and using it only if
it lists the input's recorded content hash among its outputs: that record made exactly the
bytes that were used (even if the artifact was modified in place afterwards, its record
still describes the original). An input moved away (rsync, mv) is reported unresolved,
never an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from rich.markup import escape
from rich.tree import Tree

from ptyflow.errors import ProvenanceError
from ptyflow.provenance._record import (
    ArtifactRef,
    ProvenanceRecord,
    content_hash,
    read_record,
    record_path,
)

__all__ = ["InputCheck", "InputStatus", "LineageStep", "lineage", "render_lineage"]


class InputStatus(StrEnum):
    MATCHES = "matches"  # the input still hashes to what the record saw
    CHANGED = "changed"  # the input changed after it was used
    UNRESOLVED = "unresolved"  # nothing at the recorded path any more (moved or deleted)
    UNCHECKED = "unchecked"  # present, not rehashed (``rehash=False``)


@dataclass(frozen=True)
class InputCheck:
    """One input of a record: as the record saw it, and as found at its path now."""

    ref: ArtifactRef
    found: bool
    current_hash: str | None  # None when not found or not rehashed
    made_by: str | None  # id of the record (found at ref.path) that made the bytes used

    @property
    def status(self) -> InputStatus:
        if not self.found:
            return InputStatus.UNRESOLVED
        if self.current_hash is None:
            return InputStatus.UNCHECKED
        if self.current_hash == self.ref.content_hash:
            return InputStatus.MATCHES
        return InputStatus.CHANGED


@dataclass(frozen=True)
class LineageStep:
    """A record, the artifact it was read from, and the checks of its inputs."""

    artifact: Path
    record: ProvenanceRecord
    inputs: tuple[InputCheck, ...]


def lineage(artifact: str | Path, *, rehash: bool = True) -> list[LineageStep]:
    """The records behind ``artifact``: its own first, then its inputs' depth first, in order.

    Each record appears once (shared inputs and loops are cut by record id); an
    :class:`InputCheck` whose ``made_by`` names a record already listed refers back to it.
    ``rehash=False`` skips recomputing input hashes (which reads every input's bytes).
    Raises :class:`ProvenanceError` only if ``artifact`` itself carries no valid record.
    """
    artifact = Path(artifact)
    # read_record takes an artifact or a record file (a transfer's record has no artifact of
    # its own: it sits beside the store it moved).
    pending = [(artifact, read_record(artifact))]
    steps: dict[str, LineageStep] = {}  # insertion-ordered; its keys are the visited set
    hashes: dict[Path, str] = {}  # an input shared by several records is hashed once
    while pending:
        path, record = pending.pop()
        if record.record_id in steps:
            continue
        checked = [_check(ref, hashes if rehash else None) for ref in record.inputs]
        steps[record.record_id] = LineageStep(path, record, tuple(c for c, _ in checked))
        # Reversed so that the first input is visited next: depth first, in input order.
        pending += [(Path(c.ref.path), r) for c, r in reversed(checked) if r is not None]
    return list(steps.values())


def _check(
    ref: ArtifactRef, hashes: dict[Path, str] | None
) -> tuple[InputCheck, ProvenanceRecord | None]:
    """Check one input; also return the record that made it, if found at its path."""
    path = Path(ref.path)
    if not path.exists():
        return InputCheck(ref, found=False, current_hash=None, made_by=None), None
    current = None
    if hashes is not None:
        if path not in hashes:
            hashes[path] = content_hash(path)
        current = hashes[path]
    maker = _maker(path, ref.content_hash)
    made_by = None if maker is None else maker.record_id
    return InputCheck(ref, found=True, current_hash=current, made_by=made_by), maker


def _maker(path: Path, used_hash: str) -> ProvenanceRecord | None:
    """The record at ``path`` if it lists ``used_hash`` among its outputs (it made those bytes)."""
    try:
        record = read_record(record_path(path))
    except ProvenanceError:  # an external input (a user's file) carries no record
        return None
    return record if any(o.content_hash == used_hash for o in record.outputs) else None


_MARKS = {
    InputStatus.MATCHES: "[green]✓[/green]",
    InputStatus.CHANGED: "[red]✗ changed[/red]",
    InputStatus.UNRESOLVED: "[red]✗ not found[/red]",
    InputStatus.UNCHECKED: "[yellow]· not rehashed[/yellow]",
}


def _short(value: str, keep: int) -> str:
    """Record ids and hashes shortened like git's (``provenance show`` prints them in full)."""
    prefix, _, rest = value.rpartition(":")
    return f"{prefix}:{rest[:keep]}" if prefix else rest[:keep]


def _made_by(record: ProvenanceRecord) -> str:
    when = f"{record.started_utc:%Y-%m-%d %H:%M:%S} UTC"
    return f"← [bold]{escape(record.activity)}[/bold] {when} record {_short(record.record_id, 8)}"


def render_lineage(steps: list[LineageStep]) -> Tree:
    """A rich Tree of artifacts: each made by an activity (start time, record id), inputs below.

    Each input shows ✓ (still hashes to what was used) or ✗ (changed, or not found), its path
    and recorded content hash. A record already shown higher up is not expanded again.
    """
    root = steps[0]
    tree = Tree(f"[bold]{escape(str(root.artifact))}[/bold] {_made_by(root.record)}")
    by_id = {step.record.record_id: step for step in steps}
    _add_inputs(tree, root, by_id, shown={root.record.record_id})
    return tree


def _add_inputs(
    node: Tree, step: LineageStep, by_id: dict[str, LineageStep], shown: set[str]
) -> None:
    # Depth first, like the printed tree, so that "shown above" is really above.
    for check in step.inputs:
        label = (
            f"{_MARKS[check.status]} {escape(check.ref.path)} {_short(check.ref.content_hash, 12)}"
        )
        source = by_id.get(check.made_by) if check.made_by else None
        if source is None:
            node.add(label)
        elif source.record.record_id in shown:
            node.add(f"{label} {_made_by(source.record)} (shown above)")
        else:
            shown.add(source.record.record_id)
            _add_inputs(node.add(f"{label} {_made_by(source.record)}"), source, by_id, shown)
