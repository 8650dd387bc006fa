"""The local disk policy: which stores may be deleted on the microscope PC, and when.

Only a store the queue holds as ``verified`` is ever deleted, and only if its manifest still
has the tree hash that was verified (a store re-sealed since then is new data). Both rules
are off by default.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ptyflow.config.transfer import TransferConfig
from ptyflow.transfer._queue import Queue, State
from ptyflow.transfer._store_files import manifest_tree_hash

__all__ = ["apply_disk_policy"]

_GiB = 1024**3


def _free_bytes(path: Path) -> int:
    return shutil.disk_usage(path).free


def apply_disk_policy(config: TransferConfig, queue: Queue) -> list[str]:
    """Delete local copies the policy allows; return their names (oldest verified first)."""
    policy = config.disk
    if not policy.delete_after_verify and policy.min_free_GiB is None:
        return []
    candidates = [
        item
        for item in queue.items(State.VERIFIED)
        if not item.local_deleted
        and item.source.is_dir()
        and manifest_tree_hash(item.source) == item.tree_hash
    ]
    candidates.sort(key=lambda item: item.verified_utc or "")
    deleted = []
    for item in candidates:
        if not policy.delete_after_verify:
            assert policy.min_free_GiB is not None
            if _free_bytes(config.source.watch_dir) >= policy.min_free_GiB * _GiB:
                break
        # Out of the watcher's sight first (a hidden name), so a crash mid-delete never leaves
        # a half-deleted store that looks like one to send.
        doomed = item.source.with_name(f".{item.source.name}.deleting")
        item.source.rename(doomed)
        shutil.rmtree(doomed)
        queue.mark_deleted(item.name)
        deleted.append(item.name)
    return deleted
