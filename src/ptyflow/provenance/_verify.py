"""Check that an artifact, and every ancestor it can reach, still is what its records say.

Three kinds of evidence, each checked for every record in the chain:

- **content**: the artifact's bytes hash to the content hash its record gives it (a
  directory is also checked file by file against its ``manifest.json``, naming the file);
- **records**: each record's canonical content hashes to its ``record_hash``, and each input
  is found (by record id and content hash) and its record still has the ``record_hash``
  the child recorded when it used it;
- **signatures**: each signature verifies; signatures by untrusted keys and (when required)
  a missing trusted signature on the artifact are reported.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ptyflow.errors import ProvenanceError
from ptyflow.provenance._content import ContentPlan, Problem, described, expected_hash
from ptyflow.provenance._hashing import OnBytes
from ptyflow.provenance._lineage import InputCheck, InputStatus, LineageStep, lineage, short
from ptyflow.provenance._record import (
    RECORD_SCHEMA,
    content_hash,
    read_record,
    read_record_json,
    record_file,
    record_hash_of,
    record_path,
)
from ptyflow.provenance._resolve import InputFinder

__all__ = ["ChainReport", "Trust", "Verification", "verify_artifact", "verify_chain"]


@dataclass(frozen=True)
class Verification:
    """The outcome; on a mismatch ``problems`` names the files at fault (by the manifest)."""

    artifact: Path
    record_id: str
    expected_hash: str
    actual_hash: str
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.expected_hash == self.actual_hash


def verify_artifact(artifact: str | Path) -> Verification:
    """Recompute the content hash of ``artifact`` alone and compare it with its own record
    (no record hashes, signatures or ancestors: :func:`verify_chain` checks those)."""
    artifact = Path(artifact)
    record = read_record(artifact)
    expected, actual = expected_hash(artifact, record), content_hash(artifact)
    if actual == expected:
        return Verification(artifact, record.record_id, expected, actual)
    problems = tuple(str(p) for p in ContentPlan({artifact: expected}).run())
    return Verification(artifact, record.record_id, expected, actual, problems)


@dataclass(frozen=True)
class Trust:
    """Whose signatures count: ``keys`` maps a name to a public key line (``ed25519:...``)."""

    keys: Mapping[str, str] = field(default_factory=dict)
    require_signature: bool = False  # the artifact verified must carry a trusted signature


@dataclass(frozen=True)
class ChainReport:
    """What :func:`verify_chain` checked and found."""

    artifact: Path
    steps: list[LineageStep]
    problems: list[Problem]
    notes: list[str]
    files_hashed: int
    bytes_hashed: int
    seconds: float

    @property
    def ok(self) -> bool:
        return not self.problems


def _record_problems(
    step: LineageStep, trust: Trust, is_root: bool
) -> tuple[list[Problem], list[str]]:
    """The record's own hash and its signatures."""
    path, data = read_record_json(step.artifact)
    stored = data.get("record_hash")
    problems, notes = [], []
    if stored is None:
        schema = data.get("record_schema")
        problems.append(
            Problem(
                path,
                f"no record_hash (record schema {schema}; {RECORD_SCHEMA} seals "
                "records): nothing shows this record was not edited",
            )
        )
    elif (actual := record_hash_of(data)) != stored:
        problems.append(
            Problem(
                path,
                f"record edited: its content hashes to {actual}, its record_hash says {stored}",
            )
        )
    checks = []
    if data.get("signatures"):
        from ptyflow.provenance._signing import check_signatures  # cryptography: only if signed

        checks = check_signatures(data, trust.keys, str(path))
    for sig in checks:
        who = sig.trusted_as or f"key {short(sig.public_key, 12)}"
        if not sig.valid:
            problems.append(
                Problem(
                    path,
                    f"signature by {who} does not verify (the record changed after "
                    "it was signed, or the signature is forged)",
                )
            )
        elif sig.trusted_as is None and trust.keys:
            problems.append(Problem(path, f"signed by {who}, which is not a trusted key"))
        elif sig.trusted_as is None:
            notes.append(f"{path}: signed by {who}; no trusted keys configured to judge it")
    trusted = any(s.valid and s.trusted_as for s in checks)
    if is_root and trust.require_signature and not trusted:
        problems.append(Problem(path, "not signed by a trusted key (signatures are required)"))
    return problems, notes


def _link_problems(step: LineageStep, check: InputCheck, finder: InputFinder) -> list[Problem]:
    """Is the input found, and is its record the one the child saw?"""
    ref, child = check.ref, record_file(step.artifact)
    name = f"input {ref.path} ({short(ref.content_hash, 16)}"
    name += f", record {ref.record_id})" if ref.record_id else ")"
    places = ", ".join(str(p) for p in finder.places(step.artifact.resolve().parent))
    if check.status is InputStatus.UNRESOLVED:
        return [Problem(child, f"{name} not found at its path, nor in {places}")]
    if check.status is InputStatus.REPLACED:
        return [
            Problem(
                Path(ref.path),
                f"is not the {name} that {child} used: it holds another "
                f"artifact, and the original was not found in {places}",
            )
        ]
    if check.found_at is None:  # a user's file, changed at its recorded path
        return [
            Problem(Path(ref.path), f"changed since {child} used it (now {check.current_hash})")
        ]
    if ref.record_hash is None or check.made_by is None:
        return []
    parent = read_record(check.found_at)
    if parent.record_hash != ref.record_hash:
        return [
            Problem(
                record_path(check.found_at),
                f"record_hash {parent.record_hash} is not "
                f"{ref.record_hash}, which {child} recorded when it used this input (the "
                "record was edited or replaced)",
            )
        ]
    return []


def verify_chain(
    artifact: str | Path,
    *,
    ancestors: bool = True,
    search: Sequence[str | Path] = (),
    trust: Trust | None = None,
    threads: int | None = None,
    on_total: Callable[[int], None] | None = None,
    on_bytes: OnBytes | None = None,
) -> ChainReport:
    """Recheck ``artifact`` (and with ``ancestors``, every ancestor reachable through its
    records, found at recorded paths, beside their users, or in ``search``).

    Every file is rehashed once, in ``threads`` parallel threads. ``on_total`` is told the
    bytes to read before hashing starts, ``on_bytes`` each block hashed (progress bars).
    Raises :class:`ProvenanceError` only when ``artifact`` itself has no readable record.
    """
    t0 = time.perf_counter()
    artifact, trust = Path(artifact), trust or Trust()
    finder = InputFinder(search)
    if ancestors:
        steps = lineage(artifact, rehash=False, finder=finder)
    else:
        steps = [LineageStep(artifact, read_record(artifact), ())]
    problems: list[Problem] = []
    notes: list[str] = []
    expected: dict[Path, str] = {}
    for i, step in enumerate(steps):
        found, noted = _record_problems(step, trust, is_root=i == 0)
        problems += found
        notes += noted
        for check in step.inputs:
            problems += _link_problems(step, check, finder)
        try:
            expected.update(described(step.artifact, step.record))
        except ProvenanceError as err:
            problems.append(Problem(record_file(step.artifact), str(err)))
    plan = ContentPlan(expected)
    if on_total is not None:
        on_total(plan.total_bytes)
    problems += plan.run(threads=threads, on_bytes=on_bytes)
    return ChainReport(
        artifact, steps, problems, notes, plan.n_files, plan.total_bytes, time.perf_counter() - t0
    )
