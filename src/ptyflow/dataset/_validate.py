"""Checking a whole store against the spec: structure, state, seal and (optionally) checksums."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ptyflow.dataset._integrity import record_hash_problem, stray_partial_files
from ptyflow.dataset._layout import RESERVE
from ptyflow.dataset._metadata import DatasetState
from ptyflow.dataset._reader import Dataset, open_dataset
from ptyflow.errors import DatasetError
from ptyflow.provenance import MANIFEST_NAME, RECORD_NAME, ProvenanceRecord, manifest_problems

__all__ = ["validate_dataset"]


def _state_problems(ds: Dataset) -> list[str]:
    n_missing, n = ds.n_missing, ds.frames_received.size
    where = f"{ds.path}: state '{ds.state.value}'"
    if ds.state is DatasetState.ACQUIRING:
        return [f"{where}: the writer is still running or crashed before closing the store"]
    if ds.state is DatasetState.FAILED:
        return [f"{where}: acquisition ended with an error ({n - n_missing} of {n} frames kept)"]
    if ds.state is DatasetState.COMPLETE and n_missing:
        return [f"{where} but {n_missing} frame(s) are marked not received"]
    if ds.state is DatasetState.INCOMPLETE and not n_missing:
        return [f"{where} but every frame is marked received"]
    return []


def _is_manifest(obj: Any) -> bool:
    return isinstance(obj, dict) and all(
        isinstance(e, dict) and isinstance(e.get("sha256"), str) for e in obj.values()
    )


def _seal_problems(ds: Dataset, verify_checksums: bool) -> list[str]:
    manifest = ds.manifest
    if manifest is None:
        return [] if ds.state is DatasetState.ACQUIRING else [f"{ds.path}: no {MANIFEST_NAME}"]
    if not _is_manifest(manifest):
        return [f"{ds.path / MANIFEST_NAME}: not a mapping of path → {{sha256, size_bytes}}"]
    problems = manifest_problems(ds.path, manifest) if verify_checksums else []
    record = ds.provenance
    if record is None:
        return problems
    try:
        ProvenanceRecord.model_validate(record)
    except ValidationError as err:
        return [*problems, f"{ds.path / RECORD_NAME}: not a valid provenance record: {err}"]
    if problem := record_hash_problem(ds.path, record, manifest):
        problems.append(problem)
    return problems


def validate_dataset(
    path: str | Path, *, verify_checksums: bool = False, raise_on_error: bool = False
) -> list[str]:
    """Every way the store at ``path`` breaks the spec, one message each; empty if valid.

    Checks what :func:`open_dataset` checks, then: the state is final and agrees with
    ``frames_received``; no temp files of interrupted writes remain; ``manifest.json``
    exists and the provenance record's content hash matches it. ``verify_checksums``
    rehashes every file and names each changed, missing or extra one. ``raise_on_error``
    raises one DatasetError listing all problems instead of returning them.
    """
    path = Path(path)
    try:
        ds = open_dataset(path)
    except DatasetError as err:
        problems = [str(err)]
    else:
        problems = _state_problems(ds)
        problems += [
            f"{p}: temp file of an interrupted write"
            for p in stray_partial_files(path)
            # the writer's disk reserve belongs to a store still acquiring
            if not (p == path / RESERVE and ds.state is DatasetState.ACQUIRING)
        ]
        problems += [
            f"{p}: shard file missing, but its frames are marked received"
            for p in ds.missing_shard_files()
        ]
        try:
            problems += _seal_problems(ds, verify_checksums)
        except DatasetError as err:  # corrupt manifest.json or provenance.json
            problems.append(str(err))
    if problems and raise_on_error:
        raise DatasetError(f"{path}: {len(problems)} problem(s)\n" + "\n".join(problems))
    return problems
