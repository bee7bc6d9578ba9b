"""The PBOC feedback loop over three periods, on each backend: rejected records become findings on the
filing and are sent again, corrected, in the next feed; a feed waits for its predecessor's feedback;
unchanged periods send nothing."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import requests

from connectors.publish import pboc
from connectors.publish.signing import sign
from filings.publication import enqueue as q
from filings.publication.delivery import SenderConfig, deliver_due
from filings.publication.feedback import fetch_feedback
from filings.publication.service import publish_period
from store import outbox
from store import repository as repo
from tests.publish.helpers import (
    AREA,
    GUARANTOR,
    GUARANTOR_KEY,
    accepted_submission,
    envelope,
    filing_for,
    guarantee,
    guarantees,
    institution,
    registry_row,
    ric,
    uscc,
)

GOOD = uscc("91500113MA5U0C0D3")
BAD = GOOD[:-1] + ("0" if GOOD[-1] != "0" else "1")
PERSON = dict(party_id_type="RIC", party_id=ric("50011319800101123"), party_name="张三", party_category="farmer",
              industry_code="")


class Filings:
    """A loader for ``publish_period``: the hand-made guarantees of each submission."""

    def __init__(self) -> None:
        self.tables: dict[int, pa.Table] = {}

    def __call__(self, blobs, submission, registry):
        return filing_for(submission, self.tables[submission.id], registry[submission.institution_id])


def file_(factory, period: str, table: pa.Table, filings: Filings) -> int:
    with factory() as session, session.begin():
        submission = accepted_submission(session, GUARANTOR, period)
    filings.tables[submission.id] = table
    return submission.id


def received_records(receivers) -> int:
    return receivers.pboc_store.record_count()


def test_rejected_records_are_findings_and_are_sent_again_corrected(factory, blobs, keys, receivers) -> None:
    with factory() as session, session.begin():
        repo.upsert_institutions(session, [registry_row(institution())])
    config = SenderConfig(endpoints={"pboc": receivers.pboc_url, "cbrc": receivers.cbrc_url}, max_wait=10)
    filings = Filings()

    # September: G2's ID number fails its check at the PBOC
    sep = file_(factory, "2026-09", guarantees(guarantee("G1"), guarantee("G2", party_id=BAD), guarantee("P1", **PERSON)),
                filings)
    with requests.Session() as http:
        result = publish_period(factory, blobs, http, keys, config, "2026-09", load=filings)
    [outcome] = result.last.filings
    assert outcome.feed == q.FEED_QUEUED and outcome.records == {"440": {"10": 2}, "230": {"10": 1}}
    assert (result.delivery.delivered, result.feedback.fetched, result.feedback.rejected_records) == (4, 2, 1)
    with factory() as session:
        findings = repo.load_findings(session, sep, rule_id="PBOC-ABE004")
        feed = outbox.feed_for_submission(session, sep)
        rejections = outbox.feedback_for(session, feed_id=feed.id)
    assert [(f["severity"], f["file"], f["row"], f["column"], f["value"]) for f in findings] == [
        ("error", "guarantees", 2, "party_id", "G2")]
    assert BAD not in findings[0]["message_zh"] + findings[0]["message_en"]
    assert [(r.account_code, r.error_code, r.report_date_code) for r in rejections] == [(AREA + "G2", "ABE004", "10")]
    accepted = pboc.state_from_parquet(blobs.get(feed.accepted_key))
    assert accepted["guarantee_id"].to_pylist() == ["G1", "P1"]  # G2 is not held by the PBOC
    assert received_records(receivers) == 2

    # October: G2 corrected; G1 and P1 unchanged → only G2, as new, in the 440 file; no 230 file
    octo = file_(factory, "2026-10", guarantees(guarantee("G1"), guarantee("G2", party_id=GOOD), guarantee("P1", **PERSON)),
                 filings)
    with requests.Session() as http:
        result = publish_period(factory, blobs, http, keys, config, "2026-10", load=filings)
    [outcome] = result.last.filings
    assert outcome.records == {"440": {"10": 1}} and len(outcome.files) == 1
    assert result.feedback.rejected_records == 0
    with factory() as session:
        assert repo.count_findings(session, octo, rule_id="PBOC-ABE004") == 0
    assert received_records(receivers) == 3

    # November: nothing changed → a feed with no file, accepted at once
    nov = file_(factory, "2026-11", filings.tables[octo], filings)
    with requests.Session() as http:
        result = publish_period(factory, blobs, http, keys, config, "2026-11", load=filings)
    [outcome] = result.last.filings
    assert outcome.feed == q.FEED_QUEUED and outcome.files == [] and outcome.records == {}
    with factory() as session:
        assert outbox.feed_for_submission(session, nov).accepted_key is not None
        assert {i.kind for i in outbox.list_items(session, "2026-11")} == {"cbrc", "cbrc_summary"}

    # publishing again queues nothing new and sends nothing
    with requests.Session() as http:
        again = publish_period(factory, blobs, http, keys, config, "2026-11", load=filings)
    assert again.last.filings[0].feed == q.FEED_ALREADY and again.delivery.delivered == 0


def test_a_feed_waits_for_its_predecessors_feedback(factory, blobs, keys, receivers) -> None:
    with factory() as session, session.begin():
        repo.upsert_institutions(session, [registry_row(institution())])
    config = SenderConfig(endpoints={"pboc": receivers.pboc_url, "cbrc": receivers.cbrc_url}, max_wait=10)
    filings = Filings()
    sep = file_(factory, "2026-09", guarantees(guarantee("G1")), filings)
    octo = file_(factory, "2026-10", guarantees(guarantee("G1", outstanding_balance="1.00")), filings)

    def enqueue(submission_id: int) -> q.FilingOutcome:
        with factory() as session, session.begin():
            submission = repo.get_submission(session, submission_id)
            return q.enqueue_filing(session, blobs, filings(blobs, submission, {GUARANTOR: institution()}), report=False)

    assert enqueue(sep).feed == q.FEED_QUEUED
    held = enqueue(octo)
    assert held.feed == q.FEED_HELD and "waiting for the PBOC's feedback" in held.note
    with requests.Session() as http:
        deliver_due(factory, http, keys, blobs=blobs, config=config)
        assert enqueue(octo).feed == q.FEED_HELD  # delivered, but its feedback is not fetched yet
        assert fetch_feedback(factory, http, keys, receivers.pboc_url, blobs).settled_feeds == 1
    released = enqueue(octo)
    assert released.feed == q.FEED_QUEUED and released.records == {"440": {"30": 1}}
    assert enqueue(octo).feed == q.FEED_ALREADY
    assert enqueue(sep).feed == q.FEED_ALREADY
    with factory() as session, session.begin():  # a late filing for an older period is not fed
        older = accepted_submission(session, GUARANTOR, "2026-08")
    filings.tables[older.id] = guarantees(guarantee("G1"))
    outcome = enqueue(older.id)
    assert outcome.feed == q.FEED_SUPERSEDED


def test_publish_releases_a_held_feed_in_the_same_run(factory, blobs, keys, receivers) -> None:
    with factory() as session, session.begin():
        repo.upsert_institutions(session, [registry_row(institution())])
    config = SenderConfig(endpoints={"pboc": receivers.pboc_url, "cbrc": receivers.cbrc_url}, max_wait=10)
    filings = Filings()
    file_(factory, "2026-09", guarantees(guarantee("G1")), filings)
    with requests.Session() as http:
        publish_period(factory, blobs, http, keys, config, "2026-09", load=filings, deliver=False)  # queued only
        file_(factory, "2026-10", guarantees(guarantee("G1", outstanding_balance="2.00")), filings)
        result = publish_period(factory, blobs, http, keys, config, "2026-10", load=filings)
    assert [r.filings[0].feed for r in result.rounds] == [q.FEED_HELD, q.FEED_QUEUED]
    with factory() as session:
        assert outbox.state_counts(session) == {"delivered": 6}  # September 10 and October 30 files, 2 reports, 2 summaries
    assert received_records(receivers) == 2


def test_a_duplicate_is_kept_in_the_state_and_not_sent_again(factory, blobs, keys, receivers) -> None:
    with factory() as session, session.begin():
        repo.upsert_institutions(session, [registry_row(institution())])
    config = SenderConfig(endpoints={"pboc": receivers.pboc_url, "cbrc": receivers.cbrc_url}, max_wait=10)
    # another system already reported G5 as new for this guarantor's area code
    plan = pboc.plan(None, guarantees(guarantee("G5")), AREA, dt.date(2026, 9, 30))
    [f] = pboc.render_files(plan, AREA, dt.datetime(2026, 9, 2, tzinfo=dt.UTC), lambda prefix: 900)
    name, body = f.exchanged_name, envelope().seal(f.name, f.body)
    assert requests.put(f"{receivers.pboc_url}/pboc/files/{name}", data=body, timeout=5, headers={
        "Idempotency-Key": name, "X-Danbao-Institution": GUARANTOR,
        "X-Danbao-Signature": sign(GUARANTOR_KEY.encode(), body)}).status_code == 201
    filings = Filings()
    sep = file_(factory, "2026-09", guarantees(guarantee("G5")), filings)
    with requests.Session() as http:
        result = publish_period(factory, blobs, http, keys, config, "2026-09", load=filings)
        assert result.feedback.rejected_records == 1
        with factory() as session:
            assert repo.load_findings(session, sep, rule_id="PBOC-ABR004")[0]["column"] == "guarantee_id"
        file_(factory, "2026-10", guarantees(guarantee("G5")), filings)
        result = publish_period(factory, blobs, http, keys, config, "2026-10", load=filings)
    assert result.last.filings[0].files == []  # the PBOC holds G5: nothing to send


def test_a_corrected_filing_sends_segment_corrections_and_deletions(factory, blobs, keys, receivers) -> None:
    """A resubmission of a period already fed: changed accounts go as 442 segment corrections, an account
    the first filing reported by mistake is deleted whole (444), a new one is a 10; the receiver holds
    the corrected state."""
    with factory() as session, session.begin():
        repo.upsert_institutions(session, [registry_row(institution())])
    config = SenderConfig(endpoints={"pboc": receivers.pboc_url, "cbrc": receivers.cbrc_url}, max_wait=10)
    filings = Filings()
    file_(factory, "2026-09", guarantees(guarantee("G1"), guarantee("G2"), guarantee("P1", **PERSON)), filings)
    with requests.Session() as http:
        publish_period(factory, blobs, http, keys, config, "2026-09", load=filings)
        fixed = file_(factory, "2026-09", guarantees(guarantee("G1", outstanding_balance="700000.00", contract_no="HT-9"),
                                                     guarantee("G3"), guarantee("P1", **PERSON)), filings)
        result = publish_period(factory, blobs, http, keys, config, "2026-09", load=filings)
    outcome = next(f for f in result.last.filings if f.submission_id == fixed)
    assert outcome.records == {"442": {"C": 1, "D": 1}, "444": {"all": 1}, "440": {"10": 1}}
    assert result.feedback.rejected_records == 0
    held = receivers.pboc_store.accounts(AREA)
    assert sorted(held) == [AREA + "G1", AREA + "G3", AREA + "P1"]  # G2 deleted whole
    assert held[AREA + "G1"] == [("2026-09-30", "10"), ("2026-09-30", "MC"), ("2026-09-30", "MD")]
