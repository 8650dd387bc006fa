"""Export provenance records to the standard formats: W3C PROV and RO-Crate.

Both formats name things the same way:

- an artifact by its content hash ``sha256:<hex>`` (a file's SHA-256, or a directory's tree
  hash, see ``hashing.py``); as a URI, RFC 6920's ``nih:sha-256;<hex>``. The same bytes are
  one entity wherever they lay, so an output rsynced elsewhere and used there as an input
  links the two activities;
- an activity (one record) by its record id, a UUID: ``urn:uuid:<record id>``.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from prov.constants import PROV, PROV_LABEL, PROV_LOCATION, PROV_TYPE
from prov.identifier import QualifiedName
from prov.model import ProvAgent, ProvDocument, ProvEntity
from rocrate.model.contextentity import ContextEntity
from rocrate.rocrate import ROCrate

from ptyflow.errors import ProvenanceError
from ptyflow.provenance._hashing import HASH_PREFIX
from ptyflow.provenance._lineage import LineageStep, lineage
from ptyflow.provenance._record import ArtifactRef, ProvenanceRecord, record_path

__all__ = ["PROCESS_RUN_CRATE", "PTYFLOW_NAMESPACE", "to_prov", "to_ro_crate"]

#: URI of the ``ptyflow:`` attribute namespace (a URN: ptyflow has no web home to point at).
PTYFLOW_NAMESPACE = "urn:ptyflow:"
#: The Workflow Run RO-Crate profile the crates follow, and the RO-Crate version it extends.
_PROCESS_RUN_VERSION = "0.6"
PROCESS_RUN_CRATE = f"https://w3id.org/ro/wfrun/process/{_PROCESS_RUN_VERSION}"
_RO_CRATE_VERSION = "1.3"
_HASH_URI = "nih:sha-256;"
_UUID_URI = "urn:uuid:"


def _digest(content_hash: str) -> str:
    if not content_hash.startswith(HASH_PREFIX):
        raise ProvenanceError(f"{content_hash!r}: not a {HASH_PREFIX} content hash")
    return content_hash.removeprefix(HASH_PREFIX)


def _ptyflow_version(record: ProvenanceRecord) -> str:
    return record.environment.packages.get("ptyflow", "unknown")


# -- W3C PROV


def to_prov(records: Iterable[ProvenanceRecord]) -> ProvDocument:
    """A PROV document of ``records`` (e.g. a lineage): one Activity per record.

    Activity: start/end time and ``ptyflow:`` attributes (command, config as JSON, record
    id, and every environment field: host, user, packages as JSON, git commit, ...).
    Entity per artifact (``sha256:<hex>``) with each path it had as ``prov:location``
    (PROV-O's ``prov:atLocation``). Relations: ``used`` (at the start time),
    ``wasGeneratedBy`` (at the end time), ``wasDerivedFrom`` every output from every input,
    and ``wasAssociatedWith`` a ``prov:SoftwareAgent`` (ptyflow and its version) and a
    ``prov:Person`` (the user name).
    """
    doc = ProvDocument()
    doc.add_namespace("ptyflow", PTYFLOW_NAMESPACE)
    doc.add_namespace("sha256", _HASH_URI)
    doc.add_namespace("uuid", _UUID_URI)
    for record in {r.record_id: r for r in records}.values():
        activity = doc.activity(
            f"uuid:{record.record_id}",
            record.started_utc,
            record.ended_utc,
            _activity_attributes(record),
        )
        for agent in _agents(doc, record):
            doc.wasAssociatedWith(activity, agent)
        used = [_prov_entity(doc, ref) for ref in record.inputs]
        for entity in used:
            doc.used(activity, entity, record.started_utc)
        for ref in record.outputs:
            output = _prov_entity(doc, ref)
            doc.wasGeneratedBy(output, activity, record.ended_utc)
            for entity in used:
                doc.wasDerivedFrom(output, entity, activity)
    # An artifact (or agent) shared by several records was declared once per record:
    # unify merges those into one, with every path it had.
    return doc.unified()


def _activity_attributes(record: ProvenanceRecord) -> dict[QualifiedName | str, Any]:
    attributes: dict[QualifiedName | str, Any] = {
        PROV_LABEL: record.activity,
        "ptyflow:record_id": record.record_id,
        "ptyflow:record_schema": record.record_schema,
        "ptyflow:command": shlex.join(record.command),
    }
    if record.config is not None:
        attributes["ptyflow:config"] = json.dumps(record.config, sort_keys=True)
    for key, value in record.environment.model_dump(exclude_none=True).items():
        # PROV values are literals: lists and maps (packages, GPUs) travel as JSON text.
        literal = isinstance(value, str | int | float | bool)
        attributes[f"ptyflow:{key}"] = value if literal else json.dumps(value, sort_keys=True)
    return attributes


def _agents(doc: ProvDocument, record: ProvenanceRecord) -> tuple[ProvAgent, ProvAgent]:
    version = _ptyflow_version(record)
    user = record.environment.user
    software = doc.agent(
        f"ptyflow:software/ptyflow-{version}",
        {PROV_TYPE: PROV["SoftwareAgent"], PROV_LABEL: f"ptyflow {version}"},
    )
    # Quoted: a user name may hold characters a PROV-N name cannot (spaces on Windows).
    person = doc.agent(
        f"ptyflow:user/{quote(user, safe='')}", {PROV_TYPE: PROV["Person"], PROV_LABEL: user}
    )
    return software, person


def _prov_entity(doc: ProvDocument, ref: ArtifactRef) -> ProvEntity:
    attributes: dict[QualifiedName | str, Any] = {
        PROV_LOCATION: ref.path,
        PROV_LABEL: Path(ref.path).name,
    }
    if ref.record_id is not None:
        attributes["ptyflow:record_id"] = ref.record_id
    return doc.entity(f"sha256:{_digest(ref.content_hash)}", attributes)


# -- RO-Crate


def to_ro_crate(artifact: str | Path, out_dir: str | Path) -> Path:
    """Write an RO-Crate describing ``artifact``'s lineage to ``out_dir``; return its metadata file.

    Follows the Process Run Crate profile: one CreateAction per record (instrument the
    ptyflow SoftwareApplication and version, agent the user as a Person, object the inputs,
    result the outputs, start/end time, the command as description). Artifacts are
    referenced, never copied: by content hash as URI (``nih:sha-256;<hex>``, with the
    ``sha256:`` form as ``identifier``) and their recorded paths as ``alternateName``. The
    only files in the crate are the records themselves, ``records/<record id>.json``, each
    ``about`` its action, so the crate keeps every config and environment in full.
    """
    artifact, out_dir = Path(artifact), Path(out_dir)
    steps = lineage(artifact, rehash=False)  # the crate holds records, not hash checks
    for step in steps:
        if step.artifact.is_dir() and out_dir.resolve().is_relative_to(step.artifact.resolve()):
            raise ProvenanceError(
                f"{out_dir}: inside {step.artifact}; a crate there would change its content hash"
            )
    crate = ROCrate(version=_RO_CRATE_VERSION)
    crate.name = f"Provenance of {artifact.name}"
    crate.description = (
        f"How {artifact.name} was made: {len(steps)} ptyflow run(s), each a CreateAction with "
        "its provenance record in records/. Data are referenced by content hash and path."
    )
    profile = crate.add(
        ContextEntity(
            crate,
            PROCESS_RUN_CRATE,
            properties={
                "@type": "CreativeWork",
                "name": "Process Run Crate",
                "version": _PROCESS_RUN_VERSION,
            },
        )
    )
    artifacts = _crate_artifacts(crate, steps)
    actions = [_create_action(crate, step, artifacts) for step in steps]
    crate.root_dataset["conformsTo"] = profile
    crate.root_dataset["mentions"] = actions
    crate.root_dataset["about"] = [artifacts[o.content_hash] for o in steps[0].record.outputs]
    crate.write(out_dir)
    return out_dir / "ro-crate-metadata.json"


def _crate_artifacts(crate: ROCrate, steps: list[LineageStep]) -> dict[str, ContextEntity]:
    """One entity per content hash in the records, with every path it was seen at."""
    paths: dict[str, list[str]] = {}
    for step in steps:
        for ref in (*step.record.outputs, *step.record.inputs):
            seen = paths.setdefault(ref.content_hash, [])
            if ref.path not in seen:
                seen.append(ref.path)
    return {digest: _crate_artifact(crate, digest, where) for digest, where in paths.items()}


def _crate_artifact(crate: ROCrate, digest: str, paths: list[str]) -> ContextEntity:
    """A Dataset (directory) or File by URI, so nothing is copied; CreativeWork when gone."""
    if any(Path(p).is_dir() for p in paths):
        kind = "Dataset"
    else:
        kind = "File" if any(Path(p).is_file() for p in paths) else "CreativeWork"
    entity = crate.add(
        ContextEntity(
            crate,
            _HASH_URI + _digest(digest),
            properties={
                "@type": kind,
                "identifier": digest,
                "name": Path(paths[0]).name,
                "alternateName": paths,
            },
        )
    )
    # RO-Crate 1.2+ wants every File and Dataset in the root's hasPart (rocrate will not
    # read the crate back otherwise); by absolute URI they are web-based data entities.
    # (rocrate's add_dataset would append "/" to the URI, changing the identifier.)
    if kind != "CreativeWork":
        crate.root_dataset.append_to("hasPart", entity)
    return entity


def _create_action(
    crate: ROCrate, step: LineageStep, artifacts: dict[str, ContextEntity]
) -> ContextEntity:
    record = step.record
    version = _ptyflow_version(record)
    software = crate.add(
        ContextEntity(
            crate,
            f"#ptyflow-{version}",
            properties={
                "@type": "SoftwareApplication",
                "name": "ptyflow",
                "softwareVersion": version,
            },
        )
    )
    user = record.environment.user
    person = crate.add(
        ContextEntity(
            crate, f"#user-{quote(user, safe='')}", properties={"@type": "Person", "name": user}
        )
    )
    properties: dict[str, Any] = {
        "name": f"ptyflow {record.activity}",
        "description": shlex.join(record.command),
        "startTime": record.started_utc.isoformat(),
        "agent": {"@id": person.id},
    }
    if record.ended_utc is not None:
        properties["endTime"] = record.ended_utc.isoformat()
    action = crate.add_action(
        software,
        identifier=f"{_UUID_URI}{record.record_id}",
        object=[artifacts[i.content_hash] for i in record.inputs],
        result=[artifacts[o.content_hash] for o in record.outputs],
        properties=properties,
    )
    crate.add_file(
        record_path(step.artifact),
        dest_path=f"records/{record.record_id}.json",
        properties={
            "name": f"provenance record of {step.artifact.name}",
            "encodingFormat": "application/json",
            "about": {"@id": action.id},
        },
    )
    return action
