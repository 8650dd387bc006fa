"""Lineage: follow an artifact's record back through the records of its inputs.

Each input is found by identity (:class:`~ptyflow.provenance._resolve.InputFinder`): the
record that made exactly the bytes used, beside the artifact that used it, at the
recorded path, or in the search paths. So the chain survives rsync to another place with the
original removed. An input found nowhere is reported, never an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from rich.markup import escape
from rich.tree import Tree

from ptyflow.provenance._record import ArtifactRef, ProvenanceRecord, read_record
from ptyflow.provenance._resolve import InputFinder

__all__ = ["InputCheck", "InputStatus", "LineageStep", "first_step", "lineage", "render_lineage"]


class InputStatus(StrEnum):
    MATCHES = "matches"  # found, and it still hashes to what the record saw
    CHANGED = "changed"  # found, but its bytes changed after they were used
    REPLACED = "replaced"  # not found; the recorded path holds another artifact
    UNRESOLVED = "unresolved"  # found nowhere (moved out of reach, or deleted)
    UNCHECKED = "unchecked"  # found, not rehashed (``rehash=False``)


@dataclass(frozen=True)
class InputCheck:
    """One input of a record: as the record saw it, and where and how it was found now."""

    ref: ArtifactRef
    status: InputStatus
    found_at: Path | None  # where the input was found; None if nowhere
    current_hash: str | None  # its content hash now; None when not found or not rehashed
    made_by: str | None  # id of the record that made the bytes used, if found

    @property
    def found(self) -> bool:
        return self.found_at is not None


@dataclass(frozen=True)
class LineageStep:
    """A record, the artifact it was read from, and the checks of its inputs."""

    artifact: Path
    record: ProvenanceRecord
    inputs: tuple[InputCheck, ...]


def lineage(
    artifact: str | Path,
    *,
    rehash: bool = True,
    search: Sequence[str | Path] = (),
    finder: InputFinder | None = None,
) -> list[LineageStep]:
    """The records behind ``artifact``: its own first, then its inputs' depth first, in order.

    Inputs are looked for beside the artifact that used them, at their recorded path, then
    in ``search``. Each record appears once (shared inputs and loops are cut by record id);
    an :class:`InputCheck` whose ``made_by`` names a record already listed refers back to
    it. ``rehash=False`` skips recomputing input hashes (which reads every input's bytes).
    Raises :class:`ProvenanceError` only if ``artifact`` itself carries no valid record.
    """
    artifact = Path(artifact)
    finder = finder or InputFinder(search)
    pending = [(artifact, read_record(artifact))]
    steps: dict[str, LineageStep] = {}  # insertion-ordered; its keys are the visited set
    while pending:
        path, record = pending.pop()
        if record.record_id in steps:
            continue
        step, makers = _step(path, record, finder, rehash)
        steps[record.record_id] = step
        # Reversed so that the first input is visited next: depth first, in input order.
        pending += [(c.found_at, r) for c, r in reversed(makers) if r and c.found_at]
    return list(steps.values())


def first_step(
    artifact: str | Path, *, rehash: bool = True, search: Sequence[str | Path] = ()
) -> LineageStep:
    """The artifact's own record and its inputs, found and checked (no further back)."""
    artifact = Path(artifact)
    record = read_record(artifact)
    return _step(artifact, record, InputFinder(search), rehash)[0]


def _step(
    path: Path, record: ProvenanceRecord, finder: InputFinder, rehash: bool
) -> tuple[LineageStep, list[tuple[InputCheck, ProvenanceRecord | None]]]:
    near = path.resolve().parent
    checked = [_check(ref, finder, near, rehash) for ref in record.inputs]
    return LineageStep(path, record, tuple(c for c, _ in checked)), checked


def _check(
    ref: ArtifactRef, finder: InputFinder, near: Path, rehash: bool
) -> tuple[InputCheck, ProvenanceRecord | None]:
    """Check one input; also return the record that made it, if found."""
    found = finder.find(ref, near)
    if found is None:
        recorded = Path(ref.path)
        if not recorded.exists():
            return InputCheck(ref, InputStatus.UNRESOLVED, None, None, None), None
        current = finder.content_hash(recorded) if rehash or ref.record_id is None else None
        status = InputStatus.CHANGED if ref.record_id is None else InputStatus.REPLACED
        return InputCheck(ref, status, None, current, None), None
    made_by = None if found.record is None else found.record.record_id
    if not rehash and found.record is not None:
        return InputCheck(ref, InputStatus.UNCHECKED, found.path, None, made_by), found.record
    current = finder.content_hash(found.path)
    status = InputStatus.MATCHES if current == ref.content_hash else InputStatus.CHANGED
    return InputCheck(ref, status, found.path, current, made_by), found.record


_MARKS = {
    InputStatus.MATCHES: "[green]✓[/green]",
    InputStatus.CHANGED: "[red]✗ changed[/red]",
    InputStatus.REPLACED: "[red]✗ replaced[/red]",
    InputStatus.UNRESOLVED: "[red]✗ not found[/red]",
    InputStatus.UNCHECKED: "[yellow]· not rehashed[/yellow]",
}


def short(value: str, keep: int) -> str:
    """Record ids and hashes shortened like git's (``--json`` prints them in full)."""
    prefix, _, rest = value.rpartition(":")
    return f"{prefix}:{rest[:keep]}" if prefix else rest[:keep]


def _made_by(record: ProvenanceRecord) -> str:
    when = f"{record.started_utc:%Y-%m-%d %H:%M:%S} UTC"
    return f"← [bold]{escape(record.activity)}[/bold] {when} record {short(record.record_id, 8)}"


def _where(check: InputCheck) -> str:
    """The recorded path, and where the input was found if that differs."""
    text = escape(check.ref.path)
    if check.found_at is not None and str(check.found_at.resolve()) != check.ref.path:
        text += f" (found at {escape(str(check.found_at))})"
    return text


def render_lineage(steps: list[LineageStep]) -> Tree:
    """A rich Tree of artifacts: each made by an activity (start time, record id), inputs below.

    Each input shows ✓ (still hashes to what was used) or ✗ (changed, replaced, not found),
    its path (and where it was found, if elsewhere) and recorded content hash. A record
    already shown higher up is not expanded again.
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
        label = f"{_MARKS[check.status]} {_where(check)} {short(check.ref.content_hash, 12)}"
        source = by_id.get(check.made_by) if check.made_by else None
        if source is None:
            node.add(label)
        elif source.record.record_id in shown:
            node.add(f"{label} {_made_by(source.record)} (shown above)")
        else:
            shown.add(source.record.record_id)
            _add_inputs(node.add(f"{label} {_made_by(source.record)}"), source, by_id, shown)
