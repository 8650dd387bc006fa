"""The fields every stage's record must carry, checked in one call (one line per stage's test).

A stage test writes its artifact, then::

    check_record(store, activity="acquire", inputs=[], seeds=["dose.seed"])

``check_record`` raises :class:`ProvenanceError` listing every missing or wrong field.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ptyflow.errors import ProvenanceError
from ptyflow.provenance._content import described
from ptyflow.provenance._record import (
    RECORD_SCHEMA,
    ProvenanceRecord,
    artifact_ref,
    content_hash,
    read_record,
    read_record_json,
    record_hash_of,
)

__all__ = ["check_record", "record_field_problems"]


def _lookup(config: dict[str, Any] | None, dotted: str) -> Any:
    node: Any = config
    for key in dotted.split("."):
        node = node.get(key) if isinstance(node, dict) else None
    return node


def _input_problems(record: ProvenanceRecord, inputs: Sequence[Path]) -> list[str]:
    if len(record.inputs) != len(inputs):
        return [f"inputs: {len(record.inputs)} recorded, expected {len(inputs)}"]
    problems = []
    for i, (ref, path) in enumerate(zip(record.inputs, inputs, strict=True)):
        want = artifact_ref(path)
        for name in ("content_hash", "record_id", "record_hash"):
            if getattr(ref, name) != getattr(want, name):
                problems.append(
                    f"inputs[{i}].{name}: {getattr(ref, name)!r}, but {path} has "
                    f"{getattr(want, name)!r}"
                )
    return problems


def record_field_problems(
    artifact: str | Path,
    *,
    activity: str,
    inputs: Sequence[str | Path] = (),
    seeds: Sequence[str] = (),
    compute: bool = False,
) -> list[str]:
    """Every required field of ``artifact``'s record that is missing or wrong.

    Required of every record: the current schema; a ``record_hash`` matching its content;
    ``activity``; a command; the resolved config; host, user, platform, Python and the
    ptyflow version; start and end time (end ≥ start); its output's content hash equal to
    the artifact's; exactly ``inputs``, each by content hash, record id and record hash.
    ``seeds``: dotted config keys that must hold an integer seed. ``compute``: the CPU
    model and core count (and GPU names with the CUDA version when torch saw a GPU).
    """
    artifact = Path(artifact)
    path, data = read_record_json(artifact)
    record = read_record(path)
    env = record.environment
    checks = {
        "record_schema": record.record_schema == RECORD_SCHEMA,
        "record_hash": record.record_hash == record_hash_of(data),
        "activity": record.activity == activity,
        "command": bool(record.command),
        "config": record.config is not None,
        "environment.host": bool(env.host),
        "environment.user": bool(env.user),
        "environment.platform": bool(env.platform),
        "environment.python": bool(env.python),
        "environment.packages.ptyflow": "ptyflow" in env.packages,
        "started_utc": record.started_utc.tzinfo is not None,
        "ended_utc": record.ended_utc is not None and record.ended_utc >= record.started_utc,
        "outputs": bool(record.outputs),
    }
    if compute:
        checks["environment.cpu"] = bool(env.cpu)
        checks["environment.cpu_count"] = env.cpu_count >= 1
        checks["environment.cuda"] = (env.gpus is None) == (env.cuda is None)
    problems = [f"{key}: missing or wrong" for key, ok in checks.items() if not ok]
    for key in seeds:
        value = _lookup(record.config, key)
        if not isinstance(value, int) or isinstance(value, bool):
            problems.append(f"config.{key}: expected an integer seed, got {value!r}")
    if record.outputs:
        try:
            for output, digest in described(artifact, record).items():
                if digest != content_hash(output):
                    problems.append(f"outputs: content hash differs from {output}'s")
        except ProvenanceError as err:
            problems.append(f"outputs: {err}")
    problems += _input_problems(record, [Path(p) for p in inputs])
    return [f"{path}: {p}" for p in problems]


def check_record(
    artifact: str | Path,
    *,
    activity: str,
    inputs: Sequence[str | Path] = (),
    seeds: Sequence[str] = (),
    compute: bool = False,
) -> ProvenanceRecord:
    """The record of ``artifact`` if it carries every required field
    (:func:`record_field_problems`); else ProvenanceError listing each problem."""
    problems = record_field_problems(
        artifact, activity=activity, inputs=inputs, seeds=seeds, compute=compute
    )
    if problems:
        raise ProvenanceError("incomplete provenance record:\n" + "\n".join(problems))
    return read_record(artifact)
