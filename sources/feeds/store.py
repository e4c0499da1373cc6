"""What `pulse poll-feeds` remembers across restarts: the entry ids already produced per feed (bounded:
the newest `remember` per feed) and each feed's validators (ETag, Last-Modified) for conditional GET.

A local SQLite file in PULSE_DATA_DIR/feeds/ (WAL, synchronous=NORMAL: survives a killed process).
Entries are recorded only after Kafka acknowledged them, together with the validators of the document
they came from, in one transaction: a crash in between produces them again (the pipeline's dedupe drops
the copies), never loses them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS seen (feed TEXT NOT NULL, entry_key TEXT NOT NULL, seen_at REAL NOT NULL, "
    "UNIQUE (feed, entry_key))",
    "CREATE TABLE IF NOT EXISTS validators (feed TEXT PRIMARY KEY, url TEXT NOT NULL, etag TEXT, "
    "last_modified TEXT)",
)


@dataclass(frozen=True)
class Validators:
    etag: str | None = None
    last_modified: str | None = None


class FeedStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        for statement in _SCHEMA:
            self._db.execute(statement)

    def seen(self, feed: str) -> set[str]:
        return {row[0] for row in self._db.execute("SELECT entry_key FROM seen WHERE feed = ?", (feed,))}

    def validators(self, feed: str, url: str) -> Validators:
        """The validators of the feed's last document; none when its URL changed since."""
        row = self._db.execute("SELECT url, etag, last_modified FROM validators WHERE feed = ?", (feed,)).fetchone()
        if row is None or row[0] != url:
            return Validators()
        return Validators(row[1], row[2])

    def record(self, feed: str, url: str, keys: Iterable[str], validators: Validators, now_s: float,
               remember: int) -> None:
        """Entries produced (and acknowledged) from a document, and that document's validators, at once."""
        db = self._db
        db.execute("BEGIN")
        try:
            db.executemany("INSERT OR IGNORE INTO seen (feed, entry_key, seen_at) VALUES (?, ?, ?)",
                           [(feed, key, now_s) for key in keys])
            # Bounded: the newest `remember` per feed (insertion order), more than a feed lists at once.
            db.execute("DELETE FROM seen WHERE feed = ? AND rowid NOT IN "
                       "(SELECT rowid FROM seen WHERE feed = ? ORDER BY rowid DESC LIMIT ?)", (feed, feed, remember))
            db.execute("INSERT OR REPLACE INTO validators VALUES (?, ?, ?, ?)",
                       (feed, url, validators.etag, validators.last_modified))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self._db.close()
