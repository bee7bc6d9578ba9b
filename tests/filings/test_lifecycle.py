"""What is left to do, read from the store: the validation lease and its setting."""

from __future__ import annotations

import datetime as dt

import pytest

from filings.intake import load_registry, receive_package
from filings.lifecycle import (
    LEASE_VARIABLE,
    MAX_ATTEMPTS,
    VALIDATION_LEASE,
    claim,
    failed_attempt,
    plan,
    validation_lease,
)
from pipelines.resources import StoreResource
from store import repository as repo
from store.models import SubmissionState, utcnow


def test_the_lease_is_30_minutes_unless_set(monkeypatch):
    monkeypatch.delenv(LEASE_VARIABLE, raising=False)
    assert validation_lease() == VALIDATION_LEASE == dt.timedelta(minutes=30)
    monkeypatch.setenv(LEASE_VARIABLE, "")
    assert validation_lease() == VALIDATION_LEASE
    monkeypatch.setenv(LEASE_VARIABLE, " 2.5 ")
    assert validation_lease() == dt.timedelta(seconds=2.5)
    for wrong in ("0", "-1", "nan", "inf", "30m"):
        monkeypatch.setenv(LEASE_VARIABLE, wrong)
        with pytest.raises(ValueError, match=LEASE_VARIABLE):
            validation_lease()


def test_a_validation_claimed_longer_ago_than_the_lease_is_planned_again(generated, monkeypatch):
    monkeypatch.delenv(LEASE_VARIABLE, raising=False)
    store = StoreResource()
    with store.session() as session:
        load_registry(session, generated.registry_csv)
        submission = receive_package(session, store.blobs(), generated.clean[0], "landing").submission
        assert [s.id for s in plan(session).to_validate] == [submission.id]  # received
        repo.set_state(session, submission, SubmissionState.VALIDATING)  # claimed, then the process died
        assert plan(session).to_validate == []  # within the 30-minute lease
        later = utcnow() + dt.timedelta(minutes=31)
        assert [s.id for s in plan(session, now=later).to_validate] == [submission.id]
        monkeypatch.setenv(LEASE_VARIABLE, "60")
        assert plan(session).to_validate == []
        assert [s.id for s in plan(session, now=utcnow() + dt.timedelta(seconds=61)).to_validate] == [submission.id]
        assert plan(session, now=later, lease_for=dt.timedelta(hours=1)).to_validate == []  # an explicit lease wins


def test_a_submission_whose_runs_fail_by_themselves_is_tried_three_times_then_left_for_an_operator(generated, monkeypatch):
    monkeypatch.delenv(LEASE_VARIABLE, raising=False)
    store = StoreResource()
    with store.session() as session:
        load_registry(session, generated.registry_csv)
        submission = receive_package(session, store.blobs(), generated.clean[0], "landing").submission
        for attempt in range(1, MAX_ATTEMPTS + 1):
            assert [s.id for s in plan(session).to_validate] == [submission.id], attempt
            claim(session, [submission.id])
            assert plan(session).to_validate == []  # claimed: in one run at a time
            failed_attempt(session, submission.id)  # the run failed on it: the claim is freed at once
            session.refresh(submission)
            assert submission.plan_attempts == attempt and submission.planned_at is None
        assert MAX_ATTEMPTS == 3
        assert plan(session).to_validate == []  # the third failure leaves it for an operator
        assert plan(session, now=utcnow() + dt.timedelta(days=1)).to_validate == []  # however long one waits


def test_a_claim_is_not_an_attempt_a_killed_run_comes_back_after_the_lease_however_often(generated, monkeypatch):
    monkeypatch.delenv(LEASE_VARIABLE, raising=False)
    store = StoreResource()
    with store.session() as session:
        load_registry(session, generated.registry_csv)
        submission = receive_package(session, store.blobs(), generated.clean[0], "landing").submission
        now = utcnow()
        for kill in range(MAX_ATTEMPTS + 2):
            claim(session, [submission.id], now=now)
            assert plan(session, now=now + dt.timedelta(minutes=30)).to_validate == []  # the lease is not yet over
            now += dt.timedelta(minutes=30, seconds=1)
            assert [s.id for s in plan(session, now=now).to_validate] == [submission.id], kill
        session.refresh(submission)
        assert submission.plan_attempts == 0
