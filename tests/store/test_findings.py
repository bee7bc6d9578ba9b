"""Findings: bulk save from Arrow (in chunks), load with filters and paging."""

from __future__ import annotations

import hashlib

import pyarrow as pa
import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from store import repository as repo
from tests.store.backends import sqlite_only

SCHEMA = pa.schema(
    [
        ("rule_id", pa.string()),
        ("severity", pa.string()),
        ("file", pa.string()),
        ("row", pa.int64()),
        ("column", pa.string()),
        ("value", pa.string()),
        ("message_zh", pa.string()),
        ("message_en", pa.string()),
    ]
)


def _submission_id(session: Session, payload: bytes = b"pkg") -> int:
    digest = hashlib.sha256(payload).hexdigest()
    submission = repo.record_submission(
        session,
        institution_id="91500113MA5U000001",
        period="2026-10",
        package_sha256=digest,
        package_bytes=len(payload),
        blob_key=f"sha256/{digest[:2]}/{digest}",
        source="cli",
    )
    return submission.id


def _findings(n: int) -> pa.Table:
    rows = []
    for i in range(n):
        error = i % 3 == 0
        rows.append(
            {
                "rule_id": "SCH-003" if error else "FMT-008",
                "severity": "error" if error else "warning",
                "file": "guarantees",
                "row": i + 1,
                "column": "party_id" if error else "备注 extra column",
                "value": None if i % 5 == 0 else f"值{i}",
                "message_zh": "证件号码校验位错误",
                "message_en": "the ID number fails its check digit",
            }
        )
    return pa.Table.from_pylist(rows, schema=SCHEMA)


def test_findings_round_trip_with_filters(session: Session) -> None:
    submission_id = _submission_id(session)
    other_id = _submission_id(session, b"other")
    table = _findings(30)
    assert repo.save_findings(session, submission_id, table) == 30
    repo.save_findings(session, other_id, _findings(4))
    institution_level = pa.Table.from_pylist(
        [
            {
                "rule_id": "FMT-006",
                "severity": "error",
                "file": None,
                "row": None,
                "column": None,
                "value": None,
                "message_zh": "担保机构不在监管名录中",
                "message_en": "the guarantor is not in the registry",
            }
        ],
        schema=SCHEMA,
    )
    repo.save_findings(session, submission_id, institution_level)
    session.commit()

    everything = repo.load_findings(session, submission_id)
    assert everything[:30] == table.to_pylist()  # same values, same order, nulls kept
    assert everything[30] == institution_level.to_pylist()[0]
    assert repo.count_findings(session, submission_id) == 31

    errors = repo.load_findings(session, submission_id, severity="error")
    assert len(errors) == 11 and {f["severity"] for f in errors} == {"error"}
    assert [f["row"] for f in repo.load_findings(session, submission_id, rule_id="SCH-003")] == list(
        range(1, 31, 3)
    )
    assert repo.load_findings(session, submission_id, rule_id="FMT-008", severity="error") == []
    assert repo.count_findings(session, submission_id, rule_id="FMT-008") == 20

    page = repo.load_findings(session, submission_id, rule_id="FMT-008", limit=5, offset=5)
    assert [f["row"] for f in page] == [9, 11, 12, 14, 15]
    assert len(repo.load_findings(session, other_id)) == 4


def test_findings_are_inserted_in_chunks(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(repo, "FINDINGS_CHUNK_ROWS", 7)
    submission_id = _submission_id(session)
    batches: list[int] = []

    def count_batches(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO FINDINGS"):
            batches.append(len(parameters) if executemany else 1)

    bind = session.get_bind()
    event.listen(bind, "before_cursor_execute", count_batches)
    try:
        assert repo.save_findings(session, submission_id, _findings(20)) == 20
    finally:
        event.remove(bind, "before_cursor_execute", count_batches)
    assert batches == [7, 7, 6]
    assert [f["row"] for f in repo.load_findings(session, submission_id)] == list(range(1, 21))


@sqlite_only
def test_saving_findings_accepts_extra_columns_and_float_rows(session: Session) -> None:
    submission_id = _submission_id(session)
    table = _findings(3)
    table = table.set_column(3, "row", pa.array([1.0, None, 3.0])).append_column("phase", pa.array([1, 1, 2]))
    repo.save_findings(session, submission_id, table)
    assert [f["row"] for f in repo.load_findings(session, submission_id)] == [1, None, 3]


@sqlite_only
def test_saving_findings_without_a_required_column_fails(session: Session) -> None:
    submission_id = _submission_id(session)
    with pytest.raises(ValueError, match="message_en"):
        repo.save_findings(session, submission_id, _findings(2).drop_columns(["message_en"]))


@sqlite_only
def test_saving_no_findings_is_fine(session: Session) -> None:
    submission_id = _submission_id(session)
    assert repo.save_findings(session, submission_id, SCHEMA.empty_table()) == 0
    assert repo.load_findings(session, submission_id) == []
