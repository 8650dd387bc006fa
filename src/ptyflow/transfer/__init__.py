"""Moving stores to the group server, proven: rsync over ssh, a durable queue, verification.

:class:`Transfer` watches the acquisition output directory, queues every store in a SQLite
queue that survives kill -9 (:class:`Queue`), sends sealed stores with rsync (over ssh with
a pinned host key, or to a local path) through a :class:`Destination` backend, checks every
file on the destination with ``sha256sum`` against the store's manifest, re-sends what
differs, and writes a provenance record of the transfer beside the store there. See
``docs/transfer.md``.
"""

from ptyflow.transfer._destination import (
    Destination,
    LocalDestination,
    SshDestination,
    make_destination,
)
from ptyflow.transfer._engine import Transfer, TransferResult
from ptyflow.transfer._policy import apply_disk_policy
from ptyflow.transfer._queue import Queue, QueueItem, State
from ptyflow.transfer._record import RECORD_SUFFIX
from ptyflow.transfer._remote import destination_hashes, list_files
from ptyflow.transfer._send import Comparison, compare
from ptyflow.transfer._status import render_status
from ptyflow.transfer._store_files import SealedStore, read_sealed, safe_name

__all__ = [
    "RECORD_SUFFIX",
    "Comparison",
    "Destination",
    "LocalDestination",
    "Queue",
    "QueueItem",
    "SealedStore",
    "SshDestination",
    "State",
    "Transfer",
    "TransferResult",
    "apply_disk_policy",
    "compare",
    "destination_hashes",
    "list_files",
    "make_destination",
    "read_sealed",
    "render_status",
    "safe_name",
]
