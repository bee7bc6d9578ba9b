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
CREATE TABLE IF NOT EXISTS pboc_records_v2 (
    area_code TEXT NOT NULL,
    account_code TEXT NOT NULL,
    report_date TEXT NOT NULL,
    report_date_code TEXT NOT NULL,
    record_type TEXT NOT NULL,
    closed INTEGER,
    record_no INTEGER NOT NULL,
    file_name TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_pboc_records_v2_account ON pboc_records_v2 (area_code, account_code);
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

    def account_history(self, db: sqlite3.Connection, area_code: str,
                        accounts: Iterable[str]) -> dict[str, list[tuple[str, str, int | None]]]:
        """Per account: (report date, report-date code or ``M<segment>``, closed flag) of what is held."""
        wanted = sorted({a for a in accounts if a})
        found: dict[str, list[tuple[str, str, int | None]]] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            for account, date, code, closed in db.execute(
                "SELECT account_code, report_date, report_date_code, closed FROM pboc_records_v2 WHERE area_code = ?"
                f" AND account_code IN ({', '.join('?' * len(chunk))}) ORDER BY rowid", (area_code, *chunk)):  # fmt: skip
                found.setdefault(account, []).append((date, code, closed))
        return found

    def add_records(self, db: sqlite3.Connection, rows: Iterable[tuple]) -> None:
        """Rows of (area code, account code, report date, code, record type, closed, record number, file)."""
        db.executemany(
            "INSERT INTO pboc_records_v2 (area_code, account_code, report_date, report_date_code, record_type, closed,"
            " record_no, file_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)

    def delete_accounts(self, db: sqlite3.Connection, area_code: str, accounts: Iterable[str]) -> None:
        db.executemany("DELETE FROM pboc_records_v2 WHERE area_code = ? AND account_code = ?",
                       [(area_code, a) for a in accounts])

    def accounts(self, area_code: str | None = None) -> dict[str, list[tuple[str, str]]]:
        """What is held per account: (report date, code), for tests and the demo."""
        with self.lock:
            rows = self._db.execute("SELECT account_code, report_date, report_date_code FROM pboc_records_v2"
                                    + (" WHERE area_code = ?" if area_code else "") + " ORDER BY rowid",
                                    (area_code,) if area_code else ()).fetchall()
        held: dict[str, list[tuple[str, str]]] = {}
        for account, date, code in rows:
            held.setdefault(account, []).append((date, code))
        return held

    def add_feedback(self, db: sqlite3.Connection, name: str, file_name: str, body: bytes) -> None:
        db.execute("INSERT OR REPLACE INTO pboc_feedback (name, file_name, body) VALUES (?, ?, ?)",
                   (name, file_name, body))

    def feedback(self, name: str) -> tuple[str, bytes] | None:
        with self.lock:
            row = self._db.execute("SELECT file_name, body FROM pboc_feedback WHERE name = ?", (name,)).fetchone()
        return None if row is None else (row[0], bytes(row[1]))

    def record_count(self) -> int:
        with self.lock:
            return int(self._db.execute("SELECT count(*) FROM pboc_records_v2").fetchone()[0])


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
