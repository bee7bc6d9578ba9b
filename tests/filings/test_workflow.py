"""The filing workflow without Dagster: receive (bytes first), sequence numbers, validate, late filings."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

import pytest

from filings.archive import default_archive
from filings.confirmation import confirm_submission
from filings.intake import load_filing, load_registry, receive_package
from filings.late import DeadlineNotPassedError, deadline_for, detect_late_filings
from filings.record import filing_of_record
from filings.validation import validate_submission
from pipelines.resources import StoreResource
from store import repository as repo
from store.models import SubmissionState
from store.registry import registry_snapshot
from validations.context import BEIJING


@pytest.fixture
def store(generated):
    store = StoreResource()
    with store.session() as session:
        load_registry(session, generated.registry_csv)
    return store


def validate(store, submission_id):
    return validate_submission(store.session, store.blobs(), default_archive(), submission_id)


def receive(store, package, source="cli", **hints):
    with store.session() as session:
        return receive_package(session, store.blobs(), package, source, **hints)


def test_bytes_are_kept_first_then_numbered_and_deduplicated(store, generated):
    data = generated.clean[0].read_bytes()
    first = receive(store, data, "upload")
    assert first.created and first.submission.sequence == 1
    assert store.blobs().get(first.blob_key) == data  # byte for byte
    assert first.submission.package_sha256 == first.package_sha256 == first.blob_key.rsplit("/", 1)[1]
    again = receive(store, generated.clean[0], "landing")  # the same bytes through another door
    assert not again.created and again.submission.id == first.submission.id
    second = receive(store, generated.warned[0], "landing")  # a resubmission
    assert second.created and second.submission.sequence == 2
    with store.session() as session:
        assert [s.sequence for s in repo.list_submissions(session, institution_id=generated.ids()[0])] == [1, 2]


def test_folder_package_is_kept_and_identified(store, generated):
    receipt = receive(store, generated.folders[1], "landing")
    assert receipt.created and receipt.institution_id == generated.ids()[1] and receipt.period == generated.period
    assert store.blobs().is_folder(receipt.blob_key)
    filing = load_filing(store.blobs(), receipt.submission)
    assert filing.package_sha256 == receipt.package_sha256  # the same identity as reading the folder directly


def test_broken_manifest_falls_back_to_the_hints_or_is_kept_unattributed(store):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("manifest.json", "{not json")
    data = buffer.getvalue()
    unattributed = receive(store, data, "landing")
    assert unattributed.submission is None and store.blobs().exists(unattributed.blob_key)
    hinted = receive(store, data, "pull", institution_id="91500113MA0000000X", period="2026-10")
    assert hinted.submission is not None and hinted.submission.institution_id == "91500113MA0000000X"


def test_validate_records_findings_and_state(store, generated):
    rejected = receive(store, generated.rejected[2]).submission
    result = validate(store, rejected.id).result
    assert str(result.status) == "rejected"
    with store.session() as session:
        row = repo.get_submission(session, rejected.id)
        assert row.state == SubmissionState.REJECTED
        assert row.finding_counts["error"] == result.counts()["error"] > 0
        assert repo.count_findings(session, rejected.id) == result.findings.num_rows
    validate(store, rejected.id)  # validating again replaces the findings instead of adding to them
    with store.session() as session:
        assert repo.count_findings(session, rejected.id) == result.findings.num_rows


def test_accepted_stays_the_filing_of_record_until_a_newer_one_is_accepted(store, generated):
    guarantor = generated.ids()[0]
    ids = []
    for package in (generated.clean[0], generated.warned[0], generated.rejected[0]):
        submission = receive(store, package).submission
        validate(store, submission.id)
        ids.append(submission.id)
    with store.session() as session:
        assert filing_of_record(session, guarantor, generated.period).id == ids[0]
        confirm_submission(session, ids[1])  # the guarantor confirms its warnings
    with store.session() as session:
        assert filing_of_record(session, guarantor, generated.period).id == ids[1]
        assert repo.get_submission(session, ids[0]).state == SubmissionState.ACCEPTED  # never overwritten


def test_late_filings(store, generated):
    on_time, rejected = generated.ids()[0], generated.ids()[1]
    for package in (generated.clean[0], generated.rejected[1]):
        submission = receive(store, package).submission
        validate(store, submission.id)
    deadline = deadline_for(generated.period)
    assert deadline.day == 15
    with store.session() as session, pytest.raises(DeadlineNotPassedError):
        detect_late_filings(session, generated.period, deadline, now=dt.datetime.combine(deadline, dt.time(23), BEIJING))
    with store.session() as session:
        late = detect_late_filings(session, generated.period, deadline)
    assert rejected in late and on_time not in late
    assert sorted(late) == sorted(i for i in generated.ids() if i != on_time)
    with store.session() as session:  # idempotent
        assert detect_late_filings(session, generated.period, deadline) == late
        assert [x.institution_id for x in repo.list_late_filings(session, generated.period)] == sorted(late)


def test_registry_snapshot_matches_the_csv(store, generated):
    from connectors.registry import read_registry_csv

    with store.session() as session:
        assert registry_snapshot(session) == read_registry_csv(generated.registry_csv)


def test_manifest_guarantor_wins_over_the_hint(store, generated):
    receipt = receive(store, generated.clean[2], "pull", institution_id=generated.ids()[3], period="2000-01")
    manifest = json.loads(zipfile.ZipFile(generated.clean[2]).read("manifest.json"))
    assert (receipt.institution_id, receipt.period) == (manifest["institution_id"], manifest["period"])
