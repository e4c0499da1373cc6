"""The delivery ledger: which (subscriber, alert change) pairs already reached an outcome.

Why a local SQLite file (in PULSE_DATA_DIR/notify/) rather than a compacted Kafka topic: an outcome
must be durable before the next delivery to that subscriber starts, and one local transaction (no
fsync: WAL mode with synchronous=NORMAL survives a killed process, which is the case that matters)
costs well under a millisecond, against a produce round-trip with acks=all; on start the ledger is
ready at once instead of after re-reading a topic. The cost: it belongs to one `pulse notify`
instance, so run one per deployment (or keep each instance's data folder), see the README.

Entries are keyed by content (subscriber, alert_id:transition:severity), not by offset, so they also
absorb the pipeline's own re-emission of a change after a worker crash. They are kept for
`RETENTION_S`, far longer than a message can stay uncommitted.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Final

DELIVERED: Final = "delivered"
DEAD_LETTERED: Final = "dead_lettered"
RETENTION_S: Final = 14 * 24 * 3600.0

_SCHEMA = ("CREATE TABLE IF NOT EXISTS deliveries (subscriber TEXT NOT NULL, change_id TEXT NOT NULL, "
           "outcome TEXT NOT NULL, recorded_at REAL NOT NULL, PRIMARY KEY (subscriber, change_id)) WITHOUT ROWID")


class DeliveryLedger:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None)  # autocommit: each record is its own transaction
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)
        self._db.execute("CREATE INDEX IF NOT EXISTS deliveries_at ON deliveries (recorded_at)")

    def outcome(self, subscriber: str, change_id: str) -> str | None:
        row = self._db.execute("SELECT outcome FROM deliveries WHERE subscriber = ? AND change_id = ?",
                               (subscriber, change_id)).fetchone()
        return None if row is None else str(row[0])

    def record(self, subscriber: str, change_id: str, outcome: str, now_s: float) -> None:
        self._db.execute("INSERT OR REPLACE INTO deliveries VALUES (?, ?, ?, ?)",
                         (subscriber, change_id, outcome, now_s))

    def prune(self, now_s: float, retention_s: float = RETENTION_S) -> int:
        return self._db.execute("DELETE FROM deliveries WHERE recorded_at < ?", (now_s - retention_s,)).rowcount

    def close(self) -> None:
        self._db.close()
