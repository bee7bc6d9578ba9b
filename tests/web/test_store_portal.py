"""The portal's tables (migrations 0003 and 0004) and ``store.portal`` on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from filings.intake import load_registry
from store import portal as store_portal
from store import repository as repo
from store.db import alembic_config, make_engine, migrate, session_factory
from store.models import ApiToken, Base, utcnow
from tests.packages import GOV_ID, REGISTRY_CSV
from tests.web.conftest import BACKENDS, _database

PORTAL_TABLES = {"api_tokens", "warning_confirmations", "audit_events"}


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    for url in _database(request.param, request, tmp_path):
        engine = make_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    migrate(engine)
    with session_factory(engine)() as session, session.begin():
        load_registry(session, REGISTRY_CSV)
    with session_factory(engine)() as session:
        yield session


def test_migration_0003_matches_the_models_and_downgrades(engine: Engine) -> None:
    migrate(engine)
    inspector = inspect(engine)
    assert set(inspector.get_table_names()) >= PORTAL_TABLES
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() >= "0003"
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    assert {c["name"] for c in inspector.get_check_constraints("api_tokens")} == {
        "ck_api_tokens_token_role", "ck_api_tokens_guarantor_institution", "ck_api_tokens_bank_lender"}  # 0007
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0002")
    assert not PORTAL_TABLES & set(inspect(engine).get_table_names())
    migrate(engine)


def test_migration_0004_adds_the_sessions_and_downgrades(engine: Engine) -> None:
    migrate(engine)
    inspector = inspect(engine)
    assert {uc["name"] for uc in inspector.get_unique_constraints("portal_sessions")} == {
        "uq_portal_sessions_session_hash"}
    assert {fk["name"] for fk in inspector.get_foreign_keys("portal_sessions")} == {
        "fk_portal_sessions_token_id_api_tokens"}
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0003")
    assert "portal_sessions" not in inspect(engine).get_table_names()
    assert set(inspect(engine).get_table_names()) >= PORTAL_TABLES
    migrate(engine)
    assert "portal_sessions" in inspect(engine).get_table_names()


def test_browser_sessions_are_stored_hashed_and_end_at_logout(session: Session) -> None:
    token, _ = store_portal.create_token(session, "regulator", label="监管处")
    row, session_id = store_portal.open_session(session, token.id, dt.timedelta(hours=8))
    assert row.session_hash == store_portal.hash_secret(session_id) and session_id not in row.session_hash
    assert store_portal.find_session(session, session_id) is row
    assert store_portal.session_problem(row, token.id) is None
    assert store_portal.session_problem(row, token.id + 1) == "unknown"  # another token's cookie
    assert store_portal.session_problem(store_portal.find_session(session, session_id + "x"), token.id) == "unknown"
    assert store_portal.session_problem(row, token.id, now=row.expires_at) == "expired"
    other, _ = store_portal.open_session(session, token.id, dt.timedelta(hours=8))
    assert store_portal.close_session(session, session_id) is row and row.ended_at is not None
    first = row.ended_at
    store_portal.close_session(session, session_id)
    assert row.ended_at == first and store_portal.session_problem(row, token.id) == "ended"
    assert store_portal.session_problem(other, token.id) is None  # one logout ends one session
    assert store_portal.close_session(session, "no-such-session") is None


def test_tokens_are_stored_hashed_and_checked(session: Session) -> None:
    token, secret = store_portal.create_token(session, "guarantor", institution_id=GOV_ID, label="会计")
    assert secret.startswith("dbt_") and len(secret) > 40 and token.token_hash == store_portal.hash_secret(secret)
    assert secret not in (token.token_hash, token.prefix) and secret.startswith(token.prefix)
    assert store_portal.find_token(session, secret) is token and store_portal.token_problem(token) is None
    assert store_portal.find_token(session, secret + "x") is None
    assert store_portal.token_problem(None) == "unknown"
    token.expires_at = utcnow() - dt.timedelta(seconds=1)
    assert store_portal.token_problem(token) == "expired"
    store_portal.revoke_token(session, token.id)
    first = token.revoked_at
    store_portal.revoke_token(session, token.id)
    assert token.revoked_at == first and store_portal.token_problem(token) == "revoked"
    with pytest.raises(store_portal.TokenError):
        store_portal.create_token(session, "guarantor")
    with pytest.raises(store_portal.TokenError):
        store_portal.create_token(session, "regulator", institution_id=GOV_ID)
    with pytest.raises(store_portal.TokenError):
        store_portal.create_token(session, "guarantor", institution_id="91500000000000000X")


def test_the_database_refuses_a_guarantor_token_without_its_guarantor(session: Session) -> None:
    session.add(ApiToken(token_hash="0" * 64, prefix="dbt_x", role="guarantor", institution_id=None, label=""))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def _submission_with_warnings(session: Session) -> int:
    submission = repo.record_submission(session, institution_id=GOV_ID, period="2026-10", package_sha256="a" * 64,
                                        package_bytes=1, blob_key="sha256/aa/" + "a" * 64, source="upload")
    findings = pa.Table.from_pylist([
        {"rule_id": r, "severity": s, "file": "guarantees", "row": n, "column": "c", "value": "v",
         "message_zh": "中", "message_en": "en"}
        for r, s, n in (("SUB-001", "warning", 1), ("SUB-001", "warning", 2), ("POL-002", "warning", None),
                        ("PRU-008", "error", None))
    ])
    repo.save_findings(session, submission.id, findings)
    return submission.id


def test_confirmations_by_finding_and_by_rule(session: Session) -> None:
    sid = _submission_with_warnings(session)
    token, _ = store_portal.create_token(session, "guarantor", institution_id=GOV_ID)
    ids = {(f["rule_id"], f["row"]): f["id"] for f in store_portal.findings_page(session, sid)}
    assert store_portal.warning_status(session, sid).outstanding_by_rule == {"POL-002": 1, "SUB-001": 2}
    made = store_portal.record_confirmations(session, sid, confirmed_by=token.id, justification="  单条确认的理由说明充分  ",
                                             finding_ids=[ids[("SUB-001", 1)]])
    assert [(c.rule_id, c.finding_id, c.row, c.justification) for c in made] == [
        ("SUB-001", ids[("SUB-001", 1)], 1, "单条确认的理由说明充分")]
    again = store_portal.record_confirmations(session, sid, confirmed_by=token.id, justification="double submit of it",
                                              finding_ids=[ids[("SUB-001", 1)]])
    assert again == []  # already confirmed: nothing recorded twice
    status = store_portal.warning_status(session, sid)
    assert (status.total, status.confirmed, status.outstanding_by_rule) == (3, 1, {"POL-002": 1, "SUB-001": 1})
    for bad in ({"finding_ids": [ids[("PRU-008", None)]]}, {"finding_ids": [10**9]}, {"rule_ids": ["PRU-008"]},
                {"rule_ids": []}):
        with pytest.raises(store_portal.ConfirmationError):
            store_portal.record_confirmations(session, sid, confirmed_by=token.id, justification="a long enough text", **bad)
    with pytest.raises(store_portal.ConfirmationError):
        store_portal.record_confirmations(session, sid, confirmed_by=token.id, justification="too short",
                                          rule_ids=["POL-002"])
    store_portal.record_confirmations(session, sid, confirmed_by=token.id, justification="all of both rules, reviewed",
                                      rule_ids=["SUB-001", "POL-002"])
    status = store_portal.warning_status(session, sid)
    assert status.outstanding == 0 and status.confirmed == 3
    assert [c.finding_id is None for c in store_portal.list_confirmations(session, sid)] == [False, True, True]
    assert [r for r, _, _ in store_portal.rule_counts(session, sid)] == ["POL-002", "PRU-008", "SUB-001"]


def test_audit_events_newest_first(session: Session) -> None:
    for status in (201, 403, 404):
        store_portal.record_audit(session, method="POST", route="/api/submissions", status=status, outcome="x",
                                  detail={"n": status})
    events = store_portal.list_audit(session, limit=2)
    assert [e.status for e in events] == [404, 403] and events[0].detail == {"n": 404}
    assert store_portal.count_audit(session) == 3
