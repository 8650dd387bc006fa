"""The transfer's provenance record: begun before the store is sent, finished with the
tree hash verified on the destination, and written there beside the store."""

from __future__ import annotations

import socket
from pathlib import Path

from ptyflow._files import partial_path
from ptyflow.config.transfer import TransferConfig
from ptyflow.provenance import (
    ArtifactRef,
    ProvenanceRecord,
    finish_record,
    seal_record,
    start_record,
)
from ptyflow.transfer._destination import Destination
from ptyflow.transfer._store_files import SealedStore

__all__ = ["RECORD_SUFFIX", "finish_transfer_record", "put_record", "start_transfer_record"]

#: The transfer's own record sits beside the store on the destination: ``NAME`` + this.
RECORD_SUFFIX = ".transfer.prov.json"


def _dest_path(dest: Destination, store: SealedStore) -> str:
    return f"{dest.root}/{store.path.name}"


def start_transfer_record(
    config: TransferConfig, dest: Destination, store: SealedStore
) -> ProvenanceRecord:
    """The record of sending ``store`` to ``dest``, begun now."""
    return start_record(
        "transfer",
        config={
            "source": f"{socket.gethostname()}:{store.path.resolve()}",
            "destination": f"{dest.label}/{store.path.name}",
            "settings": config.model_dump(mode="json"),
        },
        # The input is the store itself, referenced where its verified bytes now are, so
        # lineage on the server walks back to the acquisition record (config.source says
        # where it came from).
        inputs=[
            ArtifactRef(
                path=_dest_path(dest, store),
                content_hash=store.content_hash,
                record_id=store.record_id,
                record_hash=store.record_hash,
            )
        ],
    )


def finish_transfer_record(
    record: ProvenanceRecord, dest: Destination, store: SealedStore, tree_hash: str
) -> ProvenanceRecord:
    """``record`` finished: its output is the store on ``dest`` with the verified tree hash."""
    output = ArtifactRef(
        path=_dest_path(dest, store), content_hash=tree_hash, record_id=store.record_id
    )
    return finish_record(record, [output])


def put_record(dest: Destination, record: ProvenanceRecord, name: str) -> None:
    """Write the record beside store ``name`` on the destination, atomically and durably."""
    final = Path(dest.root) / f"{name}{RECORD_SUFFIX}"
    # Written under a temp name, fsynced, then renamed (and the rename fsynced): the record
    # appears whole or not at all, even across a power cut.
    dest.run(
        [
            "sh",
            "-c",
            'cat > "$1" && sync -- "$1" && mv -f -- "$1" "$2" && sync -- "${2%/*}"',
            "sh",
            str(partial_path(final)),
            str(final),
        ],
        # Sealed (record_hash) like every record ptyflow writes: see docs/provenance.md.
        stdin=seal_record(record).model_dump_json(indent=2).encode(),
        timeout_s=600,
    )
