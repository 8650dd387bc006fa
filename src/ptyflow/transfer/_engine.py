"""The transfer daemon: watch, queue, send, verify, repair, record, tidy up.

One store at a time goes through :meth:`Transfer.process`: a send of every file the
manifest names (plus the manifest and the record), a check of every file on the
destination with ``sha256sum``, re-sends of what differs, and, once every file and the
tree hash match, an fsync of them there and a provenance record of the transfer written
beside the store on the destination. A failed attempt waits out an exponential backoff;
refused names, a source that no longer matches its own manifest and an unpinned host key
fail at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from ptyflow.config.transfer import TransferConfig
from ptyflow.dataset import writer_running
from ptyflow.errors import TransferError
from ptyflow.provenance import ProvenanceRecord
from ptyflow.transfer._destination import HOST_KEY_FAILURES, Destination, make_destination
from ptyflow.transfer._policy import apply_disk_policy
from ptyflow.transfer._queue import Queue, QueueItem, State
from ptyflow.transfer._record import (
    finish_transfer_record,
    put_record,
    start_transfer_record,
)
from ptyflow.transfer._remote import destination_hashes, list_files, remove_files, sync_files
from ptyflow.transfer._send import batches, compare, send_and_hash, send_files
from ptyflow.transfer._store_files import (
    early_files,
    find_stores,
    is_sealed,
    manifest_tree_hash,
    read_sealed,
    source_hash_matches,
)

__all__ = ["Transfer", "TransferResult"]

log = logging.getLogger("ptyflow.transfer")
_ORPHANED = (
    "not sealed and no process is writing it (a crashed acquisition?); "
    "`ptyflow recover STORE` seals the frames that arrived, and it is sent then"
)


class _GiveUpError(TransferError):
    """A failure that retrying cannot mend (refused names, damaged source, wrong host key)."""


@dataclass(frozen=True)
class TransferResult:
    name: str
    size_bytes: int
    seconds: float
    tree_hash: str
    record: ProvenanceRecord
    repaired: tuple[str, ...]


class Transfer:
    """The daemon's logic, driven by :meth:`run` (or step by step in tests)."""

    def __init__(self, config: TransferConfig, destination: Destination | None = None) -> None:
        self.config = config
        find_stores(config.source.watch_dir)  # refuses a missing one before the queue is made
        self.dest = destination or make_destination(config.destination)
        self.queue = Queue(config.queue_db)
        self._early_sent: dict[str, float] = {}

    def close(self) -> None:
        self.dest.close()

    def __enter__(self) -> Transfer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def scan(self) -> None:
        """Queue every store in the watched directory (re-adding is harmless).

        A verified store whose manifest changed (replaced, sealed again) is queued anew.
        """
        verified = {item.name: item for item in self.queue.items(State.VERIFIED)}
        for store in find_stores(self.config.source.watch_dir):
            sealed = is_sealed(store)
            self.queue.add(store.name, store, sealed=sealed)
            if not sealed:
                self._check_writer(store)
            # Replaced by a new store of the same name (sealed again): that is new data.
            done = verified.get(store.name)
            if sealed and done is not None and manifest_tree_hash(store) != done.tree_hash:
                log.info("%s: sealed again with new content since verified; sending it", store.name)
                self.queue.resend(store.name)

    def _check_writer(self, store: Path) -> None:
        """An unsealed store whose writer is gone waits for ``ptyflow recover``: say so once
        (the queue's reason remembers that it was said; a restart says it again)."""
        orphaned = not writer_running(store)
        if self.queue.note_acquiring(store.name, _ORPHANED if orphaned else None) and orphaned:
            log.warning("%s: %s", store.name, _ORPHANED)

    def run(self, *, exit_when_idle: bool = False, stop: threading.Event | None = None) -> None:
        """Work until ``stop`` is set, or (``exit_when_idle``) no sealed store is left to send."""
        stop = stop or threading.Event()
        if n := self.queue.recover():
            log.info("%d interrupted or failed store(s) queued again", n)
        while not stop.is_set():
            self.scan()
            if (item := self.queue.next_due()) is not None:
                self.process(item)
                continue
            if self.config.source.early_send:
                self.send_early()
            if exit_when_idle and not self.queue.items(State.PENDING, State.IN_FLIGHT):
                for item in self.queue.items(State.ACQUIRING):
                    log.info("%s: not sealed yet; left for the next run", item.name)
                return
            stop.wait(self.config.source.poll_interval_s)

    def process(self, item: QueueItem) -> TransferResult | None:
        """One attempt at one sealed store; the queue records the outcome."""
        self.queue.start(item.name)
        attempts = item.attempts + 1
        try:
            # A store verified before is only checked and repaired file by file: a local
            # copy damaged since must never overwrite the good copy on the server.
            result = self.send_and_verify(item.source, send_all=item.tree_hash is None)
        except (TransferError, OSError) as err:
            if (reason := self._give_up_reason(err, attempts)) is not None:
                log.error("%s: failed: %s", item.name, reason)
                self.queue.fail(item.name, reason, attempts=attempts)
                return None
            retry = self.config.retry
            wait_s = min(retry.backoff_initial_s * 2 ** (attempts - 1), retry.backoff_max_s)
            log.warning(
                "%s: attempt %d failed (%s); next in %.0f s", item.name, attempts, err, wait_s
            )
            self.queue.retry_later(item.name, str(err), attempts=attempts, wait_s=wait_s)
            return None
        self.queue.verified(
            item.name,
            attempts=attempts,
            size_bytes=result.size_bytes,
            seconds=result.seconds,
            tree_hash=result.tree_hash,
            record_id=result.record.record_id,
        )
        log.info(
            "%s: verified on %s (%.1f MB in %.1f s, %s)",
            item.name,
            self.dest.label,
            result.size_bytes / 1e6,
            result.seconds,
            result.tree_hash,
        )
        for deleted in apply_disk_policy(self.config, self.queue):
            log.info("%s: local copy deleted (verified on %s)", deleted, self.dest.label)
        return result

    def _give_up_reason(self, err: Exception, attempts: int) -> str | None:
        """Why retrying ``err`` is pointless, or None to retry after a backoff."""
        if isinstance(err, _GiveUpError):
            return str(err)
        if any(marker in str(err) for marker in HOST_KEY_FAILURES):
            return (
                f"{err} -- the server's host key is not the one pinned in "
                f"{self.config.destination.known_hosts}; refusing to send"
            )
        if attempts >= self.config.retry.max_attempts:
            return f"gave up after {attempts} attempts: {err}"
        return None

    def send_and_verify(self, store_path: Path, *, send_all: bool = True) -> TransferResult:
        """Send a sealed store, check it on the destination, repair it, record the transfer.

        ``send_all=False`` skips the first send: check, and re-send only files that differ
        on the destination and still match the manifest here.
        """
        t0 = time.perf_counter()
        try:
            store = read_sealed(store_path)
        except TransferError as err:
            raise _GiveUpError(str(err)) from None
        name = store_path.name
        record = start_transfer_record(self.config, self.dest, store)
        hash_files = partial(
            destination_hashes, self.dest, name, method=self.config.destination.verify_with
        )
        sizes = {k: v["size_bytes"] for k, v in store.manifest.items()}
        files = sorted(store.expected())
        found = send_and_hash(
            batches(files, sizes),
            partial(self._send, store_path, rel=name) if send_all else None,
            hash_files,
        )
        repaired: list[str] = []
        rounds = self.config.retry.repair_rounds
        for round_ in range(rounds + 1):
            present = list_files(self.dest, name, self.config.rsync.partial_dir)
            comparison = compare(store, found, present)
            if comparison.ok:
                break
            if round_ == rounds:
                raise TransferError(
                    f"{name}: does not verify on {self.dest.label}: {comparison.describe()}"
                )
            damaged = [
                rel
                for rel in comparison.differing
                if rel in store.manifest
                and not source_hash_matches(store_path, rel, store.manifest[rel]["sha256"])
            ]
            if damaged:
                raise _GiveUpError(
                    f"{store_path}: {damaged[0]!r} no longer matches the store's manifest (the "
                    "local copy was damaged after sealing); the destination is not repaired from it"
                )
            log.warning("%s: repairing on %s: %s", name, self.dest.label, comparison.describe())
            remove_files(self.dest, name, comparison.extra)
            self._send(store_path, comparison.differing, rel=name, ignore_times=True)
            found |= hash_files(comparison.differing)
            repaired += comparison.differing + comparison.extra
        sync_files(self.dest, name, files)  # verified in the page cache; now on the disk
        record = finish_transfer_record(record, self.dest, store, comparison.tree_hash)
        put_record(self.dest, record, name)
        return TransferResult(
            name,
            store.size_bytes,
            time.perf_counter() - t0,
            comparison.tree_hash,
            record,
            tuple(repaired),
        )

    def send_early(self) -> None:
        """Send the settled shards of stores still being acquired (errors only logged)."""
        for item in self.queue.items(State.ACQUIRING):
            last = self._early_sent.get(item.name)
            if last is not None and time.monotonic() - last < self.config.source.early_min_age_s:
                continue
            self._early_sent[item.name] = time.monotonic()
            files = early_files(item.source, self.config.source.early_min_age_s)
            try:
                self._send(item.source, files, rel=item.source.name)
            except TransferError as err:
                log.info("%s: early send postponed: %s", item.name, err)

    def _send(
        self, source: Path, files: Sequence[str], *, rel: str, ignore_times: bool = False
    ) -> None:
        send_files(source, files, self.dest, rel, self.config.rsync, ignore_times=ignore_times)
