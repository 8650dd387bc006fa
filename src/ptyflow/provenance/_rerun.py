"""``rerun``: re-execute the step that made an artifact, and compare what it makes again.

Each rerunnable step is a :class:`Rerunner` registered under its record's activity (the
``ptyflow`` command that made it: ``simulate``, ``compress``, ...). A rerunner knows how to
run its step from a record (the recorded resolved config, the inputs found again by
content hash) and how to compare the new artifact with the original: bit for bit for a
deterministic CPU step, within its stated tolerance otherwise.

Provenance calls no stage at import time: the built-in table names each stage's rerunner
as ``"module:attribute"``, imported only when a rerun needs it. A stage adds its own with
one line in ``_BUILT_IN`` (or :func:`register_rerunner` at run time).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from ptyflow.errors import ProvenanceError
from ptyflow.provenance._hashing import hash_files, list_files
from ptyflow.provenance._lineage import InputStatus, first_step
from ptyflow.provenance._record import HASH_EXCLUDES, ProvenanceRecord

__all__ = [
    "FileComparison",
    "Match",
    "RerunReport",
    "Rerunner",
    "compare_trees",
    "json_without",
    "register_rerunner",
    "rerun",
    "rerunner_for",
]

_BUILT_IN: dict[str, str] = {
    "compress": "ptyflow.compress._rerun:RERUN",
    "import": "ptyflow.ingest._rerun:RERUN",
    "reconstruct": "ptyflow.reconstruct._rerun:RERUN",
    "simulate": "ptyflow.simulate._rerun:STORE",
    "simulate.truth": "ptyflow.simulate._rerun:TRUTH",
}
_REGISTERED: dict[str, Rerunner] = {}


class Match(StrEnum):
    IDENTICAL = "identical"  # the same bytes
    EQUIVALENT = "equivalent"  # differs only where the rerunner says it may (a timestamp)
    DIFFERS = "differs"
    MISSING = "missing"  # in the original, not made again
    EXTRA = "extra"  # made again, not in the original


@dataclass(frozen=True)
class FileComparison:
    path: str  # relative to the artifact ("" for a single-file artifact)
    match: Match
    note: str = ""


class Rerunner(Protocol):
    """How to re-run one kind of step and compare its output with the original."""

    #: What "reproduced" means for this step, for the report (e.g. "bit-identical").
    criterion: str

    def rerun(self, record: ProvenanceRecord, inputs: Sequence[Path], out: Path) -> Path:
        """Run the step of ``record`` again into ``out``; return the artifact to compare.

        ``inputs`` are the record's inputs, found again, in the record's order.
        """
        ...

    def compare(self, original: Path, new: Path) -> list[FileComparison]:
        """Compare the new artifact with the original, file by file."""
        ...


@dataclass(frozen=True)
class RerunReport:
    activity: str
    original: Path
    new: Path
    criterion: str
    files: list[FileComparison]

    @property
    def reproduced(self) -> bool:
        return all(f.match in (Match.IDENTICAL, Match.EQUIVALENT) for f in self.files)


def register_rerunner(activity: str, rerunner: Rerunner) -> None:
    """Make records of ``activity`` rerunnable (replaces a built-in one of that name)."""
    _REGISTERED[activity] = rerunner


def rerunner_for(activity: str) -> Rerunner:
    """The rerunner of ``activity``; ProvenanceError naming the rerunnable ones if none."""
    if activity in _REGISTERED:
        return _REGISTERED[activity]
    if activity not in _BUILT_IN:
        known = ", ".join(sorted({*_BUILT_IN, *_REGISTERED}))
        raise ProvenanceError(f"cannot re-run a {activity!r} step; rerunnable steps: {known}")
    module, _, name = _BUILT_IN[activity].partition(":")
    rerunner: Rerunner = getattr(importlib.import_module(module), name)
    return rerunner


def rerun(
    artifact: str | Path, out: str | Path, *, search: Sequence[str | Path] = ()
) -> RerunReport:
    """Re-execute the step that made ``artifact`` into ``out`` and compare the results.

    Inputs are found by record id and content hash (beside the artifact, at the recorded
    path, in ``search``), and must still hash to what the step used.
    """
    artifact, out = Path(artifact), Path(out)
    if out.exists():  # never over the original, nor over anything else
        raise ProvenanceError(f"{out}: already exists; rerun writes a new artifact, to a new --out")
    step = first_step(artifact, search=search)
    rerunner = rerunner_for(step.record.activity)
    inputs = []
    for check in step.inputs:
        if check.status is not InputStatus.MATCHES or check.found_at is None:
            raise ProvenanceError(
                f"{artifact}: input {check.ref.path} ({check.ref.content_hash}) is "
                f"{check.status.value}; pass --search DIR where the original lies"
            )
        inputs.append(check.found_at)
    new = rerunner.rerun(step.record, inputs, out)
    return RerunReport(
        step.record.activity, artifact, new, rerunner.criterion, rerunner.compare(artifact, new)
    )


#: Turns a file's bytes into what must agree (e.g. JSON without its timestamps).
Normaliser = Callable[[bytes], Any]


def json_without(*keys: tuple[str, ...]) -> Normaliser:
    """A normaliser: the JSON document with the given key paths removed."""

    def normalise(raw: bytes) -> Any:
        doc = json.loads(raw)
        for path in keys:
            node = doc
            for key in path[:-1]:
                node = node.get(key, {}) if isinstance(node, dict) else {}
            if isinstance(node, dict):
                node.pop(path[-1], None)
        return doc

    return normalise


def compare_trees(
    original: Path, new: Path, *, normalise: Mapping[str, Normaliser] | None = None
) -> list[FileComparison]:
    """File-by-file comparison of two artifacts (directories or single files).

    Records and manifests are left out (they differ by nature: ids, times). A file listed in
    ``normalise`` whose bytes differ is ``equivalent`` if its normalised forms agree.
    """
    normalise = normalise or {}
    if not original.is_dir():
        files_a, files_b = {"": original}, {"": new}
    else:
        files_a, files_b = list_files(original, HASH_EXCLUDES), list_files(new, HASH_EXCLUDES)
    common = [r for r in files_a if r in files_b]
    digests = hash_files([files_a[r] for r in common] + [files_b[r] for r in common])
    out = [FileComparison(r, Match.MISSING) for r in files_a if r not in files_b]
    out += [FileComparison(r, Match.EXTRA) for r in files_b if r not in files_a]
    for i, rel in enumerate(common):
        if digests[i] == digests[i + len(common)]:
            out.append(FileComparison(rel, Match.IDENTICAL))
        elif rel in normalise and normalise[rel](files_a[rel].read_bytes()) == normalise[rel](
            files_b[rel].read_bytes()
        ):
            out.append(FileComparison(rel, Match.EQUIVALENT, "differs only in volatile fields"))
        else:
            out.append(FileComparison(rel, Match.DIFFERS))
    return sorted(out, key=lambda f: f.path)
