"""The durable transfer queue: one SQLite row per store, surviving kill -9 and restarts.

Every state change is its own committed transaction (SQLite's journal makes each atomic),
so after a crash the queue holds the last state that was reached. A store found
``in_flight`` at start-up was interrupted and goes back to ``pending``: sending is
idempotent (rsync skips what arrived, verification checks everything), so nothing is lost
by doing it again. Adding a store that is already queued changes nothing.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

__all__ = ["Queue", "QueueItem", "State"]


class State(StrEnum):
    ACQUIRING = "acquiring"  # not sealed yet; early sends only
    PENDING = "pending"  # sealed, waiting (or waiting out a backoff after a failed attempt)
    IN_FLIGHT = "in_flight"  # being sent or verified now
    VERIFIED = "verified"  # every file and the tree hash match on the destination
    FAILED = "failed"  # given up (reason says why); a restart of the daemon retries


_SCHEMA = """
CREATE TABLE IF NOT EXISTS stores (
    name TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_try REAL NOT NULL DEFAULT 0,
    size_bytes INTEGER,
    seconds REAL,
    tree_hash TEXT,
    record_id TEXT,
    added_utc TEXT NOT NULL,
    updated_utc TEXT NOT NULL,
    verified_utc TEXT,
    local_deleted INTEGER NOT NULL DEFAULT 0
)
"""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class QueueItem:
    name: str
    source: Path
    state: State
    reason: str | None
    attempts: int
    next_try: float
    size_bytes: int | None
    seconds: float | None
    tree_hash: str | None
    record_id: str | None
    added_utc: str
    updated_utc: str
    verified_utc: str | None
    local_deleted: bool

    @property
    def rate_MB_per_s(self) -> float | None:
        if not self.size_bytes or not self.seconds:
            return None
        return self.size_bytes / self.seconds / 1e6


class Queue:
    """The queue in the SQLite file ``path`` (created with its directory if missing)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        with self._db() as db:
            db.execute(_SCHEMA)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        # A connection per operation: the status command reads while the daemon writes,
        # and nothing is held open across a crash.
        with closing(sqlite3.connect(self.path, timeout=30.0)) as db, db:
            db.row_factory = sqlite3.Row
            yield db

    def add(self, name: str, source: Path, *, sealed: bool) -> None:
        """Queue a store (harmless if already queued); a sealed one leaves ``acquiring``."""
        state = State.PENDING if sealed else State.ACQUIRING
        now = _now()
        with self._db() as db:
            db.execute(
                "INSERT OR IGNORE INTO stores (name, source, state, added_utc, updated_utc) "
                "VALUES (?, ?, ?, ?, ?)",
                (name, str(source), state, now, now),
            )
            if sealed:
                db.execute(
                    "UPDATE stores SET state = ?, reason = NULL, updated_utc = ? "
                    "WHERE name = ? AND state = ?",
                    (State.PENDING, now, name, State.ACQUIRING),
                )

    def note_acquiring(self, name: str, reason: str | None) -> bool:
        """Say why a store still ``acquiring`` is not progressing (None: it is); return
        whether that changed what the queue said (so a caller can say it once)."""
        with self._db() as db:
            cur = db.execute(
                "UPDATE stores SET reason = ? WHERE name = ? AND state = ? AND reason IS NOT ?",
                (reason, name, State.ACQUIRING, reason),
            )
            return cur.rowcount > 0

    def recover(self) -> int:
        """At start-up: interrupted and failed stores are tried again, and why a store is
        still ``acquiring`` is looked at anew (and said again). Returns the number retried."""
        with self._db() as db:
            cur = db.execute(
                "UPDATE stores SET state = ?, next_try = 0, attempts = 0, updated_utc = ? "
                "WHERE state IN (?, ?)",
                (State.PENDING, _now(), State.IN_FLIGHT, State.FAILED),
            )
            db.execute("UPDATE stores SET reason = NULL WHERE state = ?", (State.ACQUIRING,))
            return cur.rowcount

    def items(self, *states: State) -> list[QueueItem]:
        where = f"WHERE state IN ({', '.join('?' * len(states))})" if states else ""
        with self._db() as db:
            rows = db.execute(f"SELECT * FROM stores {where} ORDER BY added_utc, name", states)
            return [_item(row) for row in rows]

    def get(self, name: str) -> QueueItem | None:
        with self._db() as db:
            row = db.execute("SELECT * FROM stores WHERE name = ?", (name,)).fetchone()
        return None if row is None else _item(row)

    def next_due(self) -> QueueItem | None:
        """The oldest pending store whose backoff has passed."""
        with self._db() as db:
            row = db.execute(
                "SELECT * FROM stores WHERE state = ? AND next_try <= ? "
                "ORDER BY added_utc, name LIMIT 1",
                (State.PENDING, time.time()),
            ).fetchone()
        return None if row is None else _item(row)

    def _set(self, name: str, **fields: object) -> None:
        fields["updated_utc"] = _now()
        cols = ", ".join(f"{k} = ?" for k in fields)
        with self._db() as db:
            db.execute(f"UPDATE stores SET {cols} WHERE name = ?", (*fields.values(), name))

    def start(self, name: str) -> None:
        self._set(name, state=State.IN_FLIGHT, reason=None)

    def retry_later(self, name: str, reason: str, *, attempts: int, wait_s: float) -> None:
        self._set(
            name,
            state=State.PENDING,
            reason=reason,
            attempts=attempts,
            next_try=time.time() + wait_s,
        )

    def fail(self, name: str, reason: str, *, attempts: int) -> None:
        self._set(name, state=State.FAILED, reason=reason, attempts=attempts)

    def verified(
        self,
        name: str,
        *,
        attempts: int,
        size_bytes: int,
        seconds: float,
        tree_hash: str,
        record_id: str,
    ) -> None:
        self._set(
            name,
            state=State.VERIFIED,
            reason=None,
            attempts=attempts,
            size_bytes=size_bytes,
            seconds=seconds,
            tree_hash=tree_hash,
            record_id=record_id,
            verified_utc=_now(),
        )

    def requeue(self, name: str) -> None:
        """Send and verify again (e.g. to re-check the destination); the attempt count restarts."""
        self._set(name, state=State.PENDING, attempts=0, next_try=0)

    def resend(self, name: str) -> None:
        """A verified store was sealed again with new content: send it as new."""
        self._set(
            name, state=State.PENDING, attempts=0, next_try=0, tree_hash=None, local_deleted=0
        )

    def mark_deleted(self, name: str) -> None:
        self._set(name, local_deleted=1)


def _item(row: sqlite3.Row) -> QueueItem:
    return QueueItem(
        name=row["name"],
        source=Path(row["source"]),
        state=State(row["state"]),
        reason=row["reason"],
        attempts=row["attempts"],
        next_try=row["next_try"],
        size_bytes=row["size_bytes"],
        seconds=row["seconds"],
        tree_hash=row["tree_hash"],
        record_id=row["record_id"],
        added_utc=row["added_utc"],
        updated_utc=row["updated_utc"],
        verified_utc=row["verified_utc"],
        local_deleted=bool(row["local_deleted"]),
    )
