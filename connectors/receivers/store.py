"""What a reference receiver holds: a SQLite file in a folder it owns.

One connection behind one lock: the receivers are for tests, the demo and guarantors' integration
testing, where correctness (an idempotency key is looked up and stored atomically) matters more than
concurrency.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    endpoint TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    institution_id TEXT,
    name TEXT,
    period TEXT,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    body BLOB NOT NULL,
    receipt TEXT NOT NULL,
    received_at TEXT NOT NULL,
    replays INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (endpoint, idempotency_key)
);
CREATE TABLE IF NOT EXISTS pboc_records (
    area_code TEXT NOT NULL,
    account_code TEXT NOT NULL,
    report_date TEXT NOT NULL,
    report_date_code TEXT NOT NULL,
    file_name TEXT NOT NULL,
    record_no INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_pboc_records_account ON pboc_records (area_code, account_code);
CREATE TABLE IF NOT EXISTS pboc_feedback (
    name TEXT PRIMARY KEY,
    file_name TEXT NOT NULL,
    body BLOB NOT NULL
);
"""


class ReceiverStore:
    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / "receiver.db"
        self.lock = threading.RLock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.executescript(_SCHEMA)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """The lock and a write transaction: check-then-store is atomic."""
        with self.lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self.lock:
            self._db.close()

    # -- deliveries -------------------------------------------------------------------------------

    def find(self, db: sqlite3.Connection, endpoint: str, key: str) -> tuple[str, dict[str, Any]] | None:
        """(sha256, receipt) stored under the key, counting the lookup as a replay."""
        row = db.execute(
            "SELECT sha256, receipt FROM deliveries WHERE endpoint = ? AND idempotency_key = ?", (endpoint, key)
        ).fetchone()
        return None if row is None else (row[0], json.loads(row[1]))

    def count_replay(self, db: sqlite3.Connection, endpoint: str, key: str) -> None:
        db.execute("UPDATE deliveries SET replays = replays + 1 WHERE endpoint = ? AND idempotency_key = ?",
                   (endpoint, key))

    def add(self, db: sqlite3.Connection, *, endpoint: str, key: str, kind: str, sha256: str, body: bytes,
            receipt: dict[str, Any], institution_id: str | None = None, name: str | None = None,
            period: str | None = None) -> None:
        db.execute(
            "INSERT INTO deliveries (endpoint, idempotency_key, kind, institution_id, name, period, sha256, size,"
            " body, receipt, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (endpoint, key, kind, institution_id, name, period, sha256, len(body), body,
             json.dumps(receipt, ensure_ascii=False), receipt["received_at"]),
        )

    def holdings(self, endpoint: str) -> list[dict[str, Any]]:
        with self.lock:
            rows = self._db.execute(
                "SELECT idempotency_key, kind, institution_id, name, period, sha256, size, receipt, received_at,"
                " replays FROM deliveries WHERE endpoint = ? ORDER BY rowid", (endpoint,)
            ).fetchall()
        names = ("idempotency_key", "kind", "institution_id", "name", "period", "sha256", "size", "receipt",
                 "received_at", "replays")
        held = [dict(zip(names, row, strict=True)) for row in rows]
        for entry in held:
            entry["receipt"] = json.loads(entry["receipt"])
        return held

    def body(self, endpoint: str, key: str) -> bytes | None:
        with self.lock:
            row = self._db.execute(
                "SELECT body FROM deliveries WHERE endpoint = ? AND idempotency_key = ?", (endpoint, key)
            ).fetchone()
        return None if row is None else bytes(row[0])

    # -- PBOC records and feedback ----------------------------------------------------------------

    def accepted_records(self, db: sqlite3.Connection, area_code: str, accounts: Iterable[str]) -> set[tuple[str, str, str]]:
        """(account code, report date, report-date code) already accepted for these accounts of an area code."""
        wanted = sorted(set(accounts))
        found: set[tuple[str, str, str]] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            found.update(db.execute(
                "SELECT account_code, report_date, report_date_code FROM pboc_records WHERE area_code = ?"
                f" AND account_code IN ({', '.join('?' * len(chunk))})", (area_code, *chunk)).fetchall())  # fmt: skip
        return found

    def add_records(self, db: sqlite3.Connection, rows: Iterable[tuple[str, str, str, str, str, int]]) -> None:
        db.executemany(
            "INSERT INTO pboc_records (area_code, account_code, report_date, report_date_code, file_name, record_no)"
            " VALUES (?, ?, ?, ?, ?, ?)", rows)

    def add_feedback(self, db: sqlite3.Connection, name: str, file_name: str, body: bytes) -> None:
        db.execute("INSERT OR REPLACE INTO pboc_feedback (name, file_name, body) VALUES (?, ?, ?)",
                   (name, file_name, body))

    def feedback(self, name: str) -> tuple[str, bytes] | None:
        with self.lock:
            row = self._db.execute("SELECT file_name, body FROM pboc_feedback WHERE name = ?", (name,)).fetchone()
        return None if row is None else (row[0], bytes(row[1]))

    def record_count(self) -> int:
        with self.lock:
            return int(self._db.execute("SELECT count(*) FROM pboc_records").fetchone()[0])


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
