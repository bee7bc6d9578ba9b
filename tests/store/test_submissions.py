"""Submissions: numbering (also under concurrency), states, the filing of record, late filings."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store import repository as repo
from store.db import make_engine, session_factory
from store.models import Submission, SubmissionSource, SubmissionState
from tests.store.backends import postgresql_only, sqlite_only

GUARANTOR = "91500113MA5U000001"
OTHER = "91500113MA5U000002"
BEIJING = dt.timezone(dt.timedelta(hours=8))


def _record(session: Session, institution_id: str = GUARANTOR, period: str = "2026-10", **kw) -> Submission:
    payload = kw.pop("payload", f"{institution_id}/{period}/{kw.get('source', 'upload')}".encode())
    digest = hashlib.sha256(payload).hexdigest()
    args = {
        "institution_id": institution_id,
        "period": period,
        "package_sha256": digest,
        "package_bytes": len(payload),
        "blob_key": f"sha256/{digest[:2]}/{digest}",
        "source": "upload",
    }
    return repo.record_submission(session, **{**args, **kw})


def _registry_row(institution_id: str = GUARANTOR, **kw: object) -> dict[str, object]:
    row = {
        "institution_id": institution_id,
        "name": "重庆市巴南区融资担保有限公司",
        "kind": "government",
        "focus_small_micro_agri": True,
        "district_code": "500113",
        "license_no": "渝0113001",
        "pboc_area_code": "A1000150011300",
        "status": "active",
    }
    return {**row, **kw}


def test_resubmissions_are_numbered_per_guarantor_and_period(session: Session) -> None:
    first = _record(session, payload=b"one")
    second = _record(session, payload=b"two")
    other_period = _record(session, period="2026-11")
    third = _record(session, payload=b"three", source="pull")
    other_guarantor = _record(session, institution_id=OTHER)  # not in the registry: recorded all the same
    session.commit()
    assert repo.get_institution(session, OTHER) is None
    assert [first.sequence, second.sequence, third.sequence] == [1, 2, 3]
    assert other_period.sequence == 1
    assert other_guarantor.sequence == 1
    assert third.source is SubmissionSource.PULL
    assert first.state is SubmissionState.RECEIVED
    assert [
        s.sequence for s in repo.list_submissions(session, period="2026-10", institution_id=GUARANTOR)
    ] == [
        1,
        2,
        3,
    ]
    assert len(repo.list_submissions(session)) == 5
    assert [s.institution_id for s in repo.list_submissions(session, period="2026-10")] == [GUARANTOR] * 3 + [
        OTHER
    ]


def test_received_at_is_kept_as_an_aware_utc_instant(engine: Engine) -> None:
    with session_factory(engine)() as session:
        submission = _record(session, received_at=dt.datetime(2026, 11, 5, 10, 0, tzinfo=BEIJING))
        session.commit()
        submission_id = submission.id
    with session_factory(engine)() as session:
        stored = repo.get_submission(session, submission_id)
        assert stored.received_at == dt.datetime(2026, 11, 5, 2, 0, tzinfo=dt.UTC)
        assert stored.received_at.utcoffset() == dt.timedelta(0)
    with session_factory(engine)() as session, pytest.raises(ValueError, match="naive"):
        _record(session, received_at=dt.datetime(2026, 11, 5, 10, 0))


@sqlite_only
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("period", "2026-13"),
        ("period", "202610"),
        ("package_sha256", "abc"),
        ("source", "email"),
        ("institution_id", ""),
        ("institution_id", "9" * 65),
    ],
)
def test_bad_submission_arguments_are_refused(session: Session, field: str, value: str) -> None:
    with pytest.raises(ValueError):
        _record(session, **{field: value})


def _record_concurrently(engine: Engine, count: int) -> list[int]:
    barrier = threading.Barrier(count)
    factory = session_factory(engine)

    def one(i: int) -> int:
        with factory() as session:
            barrier.wait()
            submission = _record(session, payload=f"package {i}".encode())
            session.commit()
            return submission.sequence

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def test_concurrent_submissions_get_distinct_sequences(engine: Engine) -> None:
    sequences = _record_concurrently(engine, 8)
    assert sorted(sequences) == list(range(1, 9))
    with session_factory(engine)() as session:
        assert sorted(s.sequence for s in repo.list_submissions(session)) == list(range(1, 9))


@postgresql_only
def test_concurrent_numbering_survives_without_the_advisory_lock(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The unique constraint and the SAVEPOINT retry are the safety net behind the lock."""
    monkeypatch.setattr(repo, "_lock_numbering", lambda *args: None)
    engine = make_engine(store_url)
    try:
        assert sorted(_record_concurrently(engine, 8)) == list(range(1, 9))
    finally:
        engine.dispose()


def test_a_lost_numbering_race_does_not_undo_the_callers_other_work(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.upsert_institutions(session, [_registry_row()])
    _record(session, payload=b"one")
    session.commit()
    repo.record_late_filing(session, GUARANTOR, "2026-09", dt.date(2026, 10, 15))  # uncommitted work
    # Simulate a competitor that took number 1 between our read and our insert: the first read of
    # the highest sequence answers "none yet", so the first insert collides.
    real_scalar = Session.scalar
    calls: list[object] = []

    def stale_once(self: Session, *args: object, **kwargs: object) -> object:
        calls.append(args)
        return None if len(calls) == 1 else real_scalar(self, *args, **kwargs)

    monkeypatch.setattr(Session, "scalar", stale_once)
    second = _record(session, payload=b"two")
    monkeypatch.undo()
    session.commit()
    assert len(calls) == 2  # one collision, one retry
    assert second.sequence == 2
    assert [late.period for late in repo.list_late_filings(session, "2026-09")] == ["2026-09"]


@sqlite_only
def test_find_submission_by_sha(session: Session) -> None:
    first = _record(session, payload=b"same bytes")
    _record(session, payload=b"other bytes")
    again = _record(session, payload=b"same bytes")
    session.commit()
    found = repo.find_submission_by_sha(session, GUARANTOR, "2026-10", first.package_sha256.upper())
    assert found is not None and found.id == again.id  # the latest of the identical packages
    assert repo.find_submission_by_sha(session, GUARANTOR, "2026-11", first.package_sha256) is None
    assert repo.find_submission_by_sha(session, OTHER, "2026-10", first.package_sha256) is None


def test_set_state_records_acceptance_and_counts(session: Session) -> None:
    submission = _record(session)
    received_changed = submission.state_changed_at
    repo.set_state(session, submission, SubmissionState.VALIDATING)
    assert submission.accepted_at is None
    repo.set_state(session, submission, "accepted", {"error": 0, "warning": 2}, template_version="1.0")
    session.commit()
    session.expire_all()
    stored = repo.get_submission(session, submission.id)
    assert stored.state is SubmissionState.ACCEPTED
    assert stored.accepted_at is not None and stored.accepted_at.tzinfo is not None
    assert stored.state_changed_at >= received_changed
    assert stored.finding_counts == {"error": 0, "warning": 2}
    assert stored.template_version == "1.0"
    accepted_at = stored.accepted_at
    repo.set_state(session, stored, SubmissionState.PUBLISHED)
    assert stored.accepted_at == accepted_at  # publishing does not move the acceptance time


@sqlite_only
def test_set_state_refuses_moves_that_would_rewrite_history(session: Session) -> None:
    submission = _record(session)
    repo.set_state(session, submission, SubmissionState.ACCEPTED)
    with pytest.raises(repo.InvalidTransitionError):
        repo.set_state(session, submission, SubmissionState.REJECTED)
    repo.set_state(session, submission, SubmissionState.ACCEPTED)  # staying put is fine
    rejected = _record(session, payload=b"broken")
    repo.set_state(session, rejected, SubmissionState.REJECTED, {"error": 3, "warning": 0})
    with pytest.raises(repo.InvalidTransitionError):
        repo.set_state(session, rejected, SubmissionState.ACCEPTED)
    assert rejected.finding_counts == {"error": 3, "warning": 0}


def test_last_and_previous_accepted(session: Session) -> None:
    def filed(period: str, payload: bytes, *states: SubmissionState) -> Submission:
        submission = _record(session, period=period, payload=payload)
        for state in states:
            repo.set_state(session, submission, state)
        return submission

    s = SubmissionState
    aug = filed("2026-08", b"aug", s.ACCEPTED, s.PUBLISHED)
    sep1 = filed("2026-09", b"sep1", s.ACCEPTED)
    sep2 = filed("2026-09", b"sep2", s.NEEDS_CONFIRMATION, s.ACCEPTED)
    filed("2026-09", b"sep3", s.REJECTED)  # a later rejected resubmission does not replace sep2
    oct1 = filed("2026-10", b"oct1", s.ACCEPTED)
    filed("2026-10", b"oct2", s.NEEDS_CONFIRMATION)  # not accepted (yet)
    oct3 = filed("2026-10", b"oct3", s.ACCEPTED)
    _record(session, institution_id=OTHER, period="2026-11", payload=b"x")
    session.commit()

    assert sep1.sequence == 1 and sep2.sequence == 2
    assert repo.last_accepted(session, GUARANTOR, "2026-09").id == sep2.id
    assert repo.last_accepted(session, GUARANTOR, "2026-08").id == aug.id  # published counts too
    assert repo.last_accepted(session, GUARANTOR, "2026-10").id == oct3.id
    assert repo.last_accepted(session, GUARANTOR, "2026-07") is None
    assert repo.last_accepted(session, OTHER, "2026-11") is None

    assert repo.previous_accepted(session, GUARANTOR, "2026-10").id == sep2.id
    assert repo.previous_accepted(session, GUARANTOR, "2026-09").id == aug.id
    assert oct1.sequence == 1 and oct3.sequence == 3
    assert repo.previous_accepted(session, GUARANTOR, "2026-11").id == oct3.id
    assert repo.previous_accepted(session, GUARANTOR, "2026-08") is None


def test_late_filing_is_idempotent(session: Session) -> None:
    repo.upsert_institutions(session, [_registry_row(), _registry_row(OTHER)])
    first = repo.record_late_filing(session, GUARANTOR, "2026-10", dt.date(2026, 11, 15))
    session.commit()
    again = repo.record_late_filing(session, GUARANTOR, "2026-10", dt.date(2026, 11, 20))
    repo.record_late_filing(session, OTHER, "2026-10", dt.date(2026, 11, 15))
    repo.record_late_filing(session, OTHER, "2026-09", dt.date(2026, 10, 15))
    session.commit()
    assert again.id == first.id
    assert again.deadline == dt.date(2026, 11, 15)  # the first record stands
    assert [(late.institution_id, late.period) for late in repo.list_late_filings(session, "2026-10")] == [
        (GUARANTOR, "2026-10"),
        (OTHER, "2026-10"),
    ]
    assert repo.list_late_filings(session, "2026-08") == []
    with pytest.raises(IntegrityError):  # late filings are about registered guarantors only
        repo.record_late_filing(session, "91500113MA5U000009", "2026-10", dt.date(2026, 11, 15))
