"""The resolved config a provenance record holds, checked for re-running its step.

Every rerunner (``ptyflow provenance rerun``) starts alike: the record must hold a config,
the config must still validate as the step's model, and the inputs found again must be the
ones the step reads. One function does it, so each error names the record the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel

from ptyflow.config._base import validate_config
from ptyflow.errors import ProvenanceError

if TYPE_CHECKING:  # configs load without the provenance package
    from ptyflow.provenance import ProvenanceRecord

__all__ = ["recorded_config"]

M = TypeVar("M", bound=BaseModel)


def recorded_config(
    record: ProvenanceRecord,
    model: type[M],
    inputs: Sequence[Path],
    expected_inputs: int | Callable[[M], int] | None,
) -> M:
    """``record``'s resolved config validated as ``model``.

    ``expected_inputs``: how many inputs the step reads (or a function of its config that
    says so; None: any number). ProvenanceError naming the record if it holds no config or
    the inputs found are not that many; ConfigError naming the field if the config no
    longer validates.
    """
    where = f"record {record.record_id} ({record.activity})"
    if record.config is None:
        raise ProvenanceError(f"{where} holds no config to re-run")
    config = validate_config(record.config, model, f"{where} config")
    expected = expected_inputs(config) if callable(expected_inputs) else expected_inputs
    if expected is not None and len(inputs) != expected:
        raise ProvenanceError(
            f"{where}: {len(inputs)} input(s) recorded, re-running it needs {expected}"
        )
    return config
