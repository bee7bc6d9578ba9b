"""What is left to do, read from the store: the validation lease and its setting."""

from __future__ import annotations

import datetime as dt

import pytest

from filings.intake import load_registry, receive_package
from filings.lifecycle import LEASE_VARIABLE, VALIDATION_LEASE, plan, validation_lease
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
