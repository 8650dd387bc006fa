"""Export to W3C PROV (PROV-JSON, PROV-N) and RO-Crate, read back with the standard libraries."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import prov as prov_lib
import pytest
from prov.constants import PROV_ATTR_TIME, PROV_LOCATION
from prov.model import (
    ProvActivity,
    ProvAgent,
    ProvAssociation,
    ProvDerivation,
    ProvDocument,
    ProvEntity,
    ProvGeneration,
    ProvRecord,
    ProvUsage,
)
from rocrate.rocrate import ROCrate

from ptyflow import provenance as prov
from ptyflow.errors import ProvenanceError

Chain = tuple[Path, Path, Path]
MakeArtifact = Callable[..., prov.ProvenanceRecord]
RunPtyflow = Callable[..., subprocess.CompletedProcess[str]]


def _records(artifact: Path) -> list[prov.ProvenanceRecord]:
    return [step.record for step in prov.lineage(artifact)]


def _chain_ids(chain: Chain) -> list[str]:
    """The record ids of raw, binned, phase."""
    return [prov.read_record(prov.record_path(a)).record_id for a in chain]


def _pairs(doc: ProvDocument, kind: type[ProvRecord]) -> set[tuple[str, str]]:
    """The two ends of every relation of ``kind`` (e.g. used: activity, entity)."""
    return {
        (str(r.formal_attributes[0][1]), str(r.formal_attributes[1][1]))
        for r in doc.get_records(kind)
    }


def _expected_relations(chain: Chain) -> dict[type[ProvRecord], set[tuple[str, str]]]:
    raw_id, binned_id, phase_id = (f"uuid:{i}" for i in _chain_ids(chain))
    raw, binned, phase = (prov.content_hash(a) for a in chain)  # "sha256:<hex>" = entity id
    return {
        ProvUsage: {(binned_id, raw), (phase_id, binned)},
        ProvGeneration: {(raw, raw_id), (binned, binned_id), (phase, phase_id)},
        ProvDerivation: {(binned, raw), (phase, binned)},
    }


def test_prov_json_round_trip_with_expected_records(chain: Chain) -> None:
    records = _records(chain[2])
    doc = prov.to_prov(records)
    text = doc.serialize(format="json")
    back = ProvDocument.deserialize(content=text, format="json")
    assert back == doc
    assert {str(a.identifier) for a in back.get_records(ProvActivity)} == {
        f"uuid:{i}" for i in _chain_ids(chain)
    }
    assert {str(e.identifier) for e in back.get_records(ProvEntity)} == {
        prov.content_hash(a) for a in chain
    }
    for kind, pairs in _expected_relations(chain).items():
        assert _pairs(back, kind) == pairs, kind.__name__
    # Two agents (ptyflow, the user), each associated with all three activities.
    agents = {str(a.identifier) for a in back.get_records(ProvAgent)}
    version = records[0].environment.packages["ptyflow"]
    user = records[0].environment.user
    assert agents == {f"ptyflow:software/ptyflow-{version}", f"ptyflow:user/{user}"}
    assert len(_pairs(back, ProvAssociation)) == 6


def test_prov_activity_carries_the_record(chain: Chain) -> None:
    (record, *_) = _records(chain[2])
    back = ProvDocument.deserialize(content=prov.to_prov([record]).serialize(), format="json")
    (activity,) = back.get_records(ProvActivity)
    attributes = {str(k): v for k, v in activity.attributes}
    assert json.loads(attributes["ptyflow:config"]) == record.config
    assert attributes["ptyflow:command"] == "ptyflow reconstruct " + str(chain[1])
    assert attributes["ptyflow:host"] == record.environment.host
    assert attributes["ptyflow:user"] == record.environment.user
    assert json.loads(attributes["ptyflow:packages"]) == record.environment.packages
    assert attributes["prov:startTime"] == record.started_utc
    assert attributes["prov:endTime"] == record.ended_utc
    (usage,) = back.get_records(ProvUsage)
    (generation,) = back.get_records(ProvGeneration)
    assert usage.get_attribute(PROV_ATTR_TIME) == {record.started_utc}
    assert generation.get_attribute(PROV_ATTR_TIME) == {record.ended_utc}


def test_moved_artifact_is_one_prov_entity(tmp_path: Path, make_artifact: MakeArtifact) -> None:
    # Made in one place, rsynced, used in another: the same bytes, one entity, two locations.
    raw = tmp_path / "acq" / "raw"
    raw.parent.mkdir()
    acquire = make_artifact(raw, "acquire")
    moved = tmp_path / "cluster" / "raw"
    shutil.copytree(raw.parent, moved.parent)
    compress = make_artifact(tmp_path / "binned", "compress", [moved])
    doc = prov.to_prov(_records(tmp_path / "binned"))
    entity_id = prov.content_hash(raw)
    (entity,) = doc.get_record(entity_id)
    assert set(entity.get_attribute(PROV_LOCATION)) == {str(raw.resolve()), str(moved.resolve())}
    # ... which links the activity that made it to the one that used it.
    assert (entity_id, f"uuid:{acquire.record_id}") in _pairs(doc, ProvGeneration)
    assert _pairs(doc, ProvUsage) == {(f"uuid:{compress.record_id}", entity_id)}


def test_unknown_hash_algorithm_is_refused() -> None:
    record = prov.start_record("x").model_copy(
        update={"outputs": [prov.ArtifactRef(path="/x", content_hash="md5:00")]}
    )
    with pytest.raises(ProvenanceError, match="md5:00"):
        prov.to_prov([record])


def _graph(metadata: Path) -> dict[str, dict[str, Any]]:
    data = json.loads(metadata.read_text())
    assert data["@context"] == "https://w3id.org/ro/crate/1.3/context"
    return {entity["@id"]: entity for entity in data["@graph"]}


def _ids(value: Any) -> set[str]:
    return {v["@id"] for v in (value if isinstance(value, list) else [value])}


def test_ro_crate_describes_the_chain(chain: Chain, tmp_path: Path) -> None:
    records = _records(chain[2])
    metadata = prov.to_ro_crate(chain[2], tmp_path / "crate")
    assert metadata == tmp_path / "crate" / "ro-crate-metadata.json"
    graph = _graph(metadata)
    root = graph["./"]
    assert _ids(root["conformsTo"]) == {prov.PROCESS_RUN_CRATE}
    assert graph[prov.PROCESS_RUN_CRATE]["@type"] == "CreativeWork"
    assert _ids(root["mentions"]) == {f"urn:uuid:{r.record_id}" for r in records}

    def uri(content_hash: str) -> str:
        return "nih:sha-256;" + content_hash.removeprefix("sha256:")

    raw, binned, phase = (prov.content_hash(a) for a in chain)
    assert _ids(root["about"]) == {uri(phase)}
    expected = {  # activity: (object, result)
        "ptyflow acquire": (set(), {uri(raw)}),
        "ptyflow compress": ({uri(raw)}, {uri(binned)}),
        "ptyflow reconstruct": ({uri(binned)}, {uri(phase)}),
    }
    for record in records:
        action = graph[f"urn:uuid:{record.record_id}"]
        assert action["@type"] == "CreateAction"
        objects, results = expected[action["name"]]
        assert _ids(action.get("object", [])) == objects
        assert _ids(action["result"]) == results
        assert action["startTime"] == record.started_utc.isoformat()
        assert record.ended_utc is not None and action["endTime"] == record.ended_utc.isoformat()
        (tool,) = _ids(action["instrument"])
        assert graph[tool]["@type"] == "SoftwareApplication"
        assert graph[tool]["softwareVersion"] == record.environment.packages["ptyflow"]
        (agent,) = _ids(action["agent"])
        assert graph[agent] == {"@id": agent, "@type": "Person", "name": record.environment.user}
    for artifact, digest, kind in zip(
        chain, (raw, binned, phase), ("Dataset", "Dataset", "File"), strict=True
    ):
        entity = graph[uri(digest)]
        assert entity["@type"] == kind and entity["identifier"] == digest
        assert entity["alternateName"] == [str(artifact.resolve())]


def test_ro_crate_copies_records_only_and_reads_back(chain: Chain, tmp_path: Path) -> None:
    crate_dir = tmp_path / "crate"
    prov.to_ro_crate(chain[2], crate_dir)
    files = sorted(p.relative_to(crate_dir).as_posix() for p in crate_dir.rglob("*") if p.is_file())
    ids = _chain_ids(chain)
    assert files == sorted(["ro-crate-metadata.json", *(f"records/{i}.json" for i in ids)])
    for artifact, record_id in zip(chain, ids, strict=True):
        copied = crate_dir / "records" / f"{record_id}.json"
        assert copied.read_bytes() == prov.record_path(artifact).read_bytes()
    # rocrate's own reader accepts the crate (it refuses data entities outside hasPart).
    crate = ROCrate(crate_dir)
    actions = crate.get_by_type("CreateAction")
    assert {a.id for a in actions} == {f"urn:uuid:{i}" for i in ids}
    assert {a["instrument"].type for a in actions} == {"SoftwareApplication"}


def test_ro_crate_is_not_written_inside_the_artifact(chain: Chain) -> None:
    binned = chain[1]
    before = prov.content_hash(binned)
    with pytest.raises(ProvenanceError, match="content hash"):
        prov.to_ro_crate(binned, binned / "crate")
    assert prov.content_hash(binned) == before


def test_cli_export(run_cli: RunPtyflow, chain: Chain, tmp_path: Path) -> None:
    phase = chain[2]
    expected = prov.to_prov(_records(phase))

    as_json = run_cli("provenance", "export", phase)
    assert as_json.returncode == 0, as_json.stderr
    assert ProvDocument.deserialize(content=as_json.stdout, format="json") == expected

    out = tmp_path / "phase.provn"
    as_provn = run_cli("provenance", "export", phase, "--format", "prov-n", "--out", out)
    assert as_provn.returncode == 0, as_provn.stderr
    text = out.read_text()
    assert text.startswith("document") and text.rstrip().endswith("endDocument")
    for record_id in _chain_ids(chain):
        assert f"activity(uuid:{record_id}, " in text
    assert f"wasGeneratedBy({prov.content_hash(phase)}, " in text

    json_file = tmp_path / "phase.prov.json"
    assert run_cli("provenance", "export", phase, "-o", json_file).returncode == 0
    assert prov_lib.read(json_file, format="json") == expected

    crate = run_cli("provenance", "export", phase, "--format", "ro-crate", "--out", "crate")
    assert crate.returncode == 0, crate.stderr
    assert len(_graph(tmp_path / "crate" / "ro-crate-metadata.json")) > 10

    no_out = run_cli("provenance", "export", phase, "--format", "ro-crate")
    assert no_out.returncode == 2 and "--out" in no_out.stderr
    assert "Traceback" not in no_out.stderr
