"""The outbox and the sender, on SQLite and PostgreSQL, against the reference receivers on loopback:
exactly once through 500s, timeouts and dropped connections; 4xx stop an item with the receiver's
message; backoff and leases live in the store."""

from __future__ import annotations

import datetime as dt
import random

import pytest
import requests
from sqlalchemy.orm import Session, sessionmaker

from connectors.publish import pboc
from connectors.publish.signing import SigningKeys, sign
from connectors.receivers import Faults, Receivers
from filings.publication import enqueue as q
from filings.publication.delivery import ConfigurationError, SenderConfig, deliver_due
from store import outbox
from store import repository as repo
from store.blobs import BlobStore
from store.models import OutboxKind, OutboxState, utcnow
from tests.publish.helpers import (
    AREA,
    GUARANTOR,
    GUARANTOR_KEY,
    OTHER,
    OTHER_AREA,
    accepted_submission,
    envelope,
    filing_for,
    guarantee,
    guarantees,
    institution,
    registry_row,
)

CREATED = dt.datetime(2026, 11, 5, 10, 0, tzinfo=dt.UTC)


def config_for(receivers: Receivers, **changes) -> SenderConfig:
    settings = dict(endpoints={"pboc": receivers.pboc_url, "cbrc": receivers.cbrc_url}, connect_timeout=1.0,
                    read_timeout=3.0, backoff_base=0.01, backoff_max=0.05, max_wait=30.0, max_attempts=50)
    settings.update(changes)
    return SenderConfig(**settings)


def setup_registry(factory: sessionmaker[Session]) -> None:
    with factory() as session, session.begin():
        repo.upsert_institutions(session, [registry_row(institution()), registry_row(institution(OTHER, OTHER_AREA))])


def queue_filings(factory: sessionmaker[Session], blobs: BlobStore, period: str = "2026-10") -> None:
    """Two guarantors' feeds (440 and 230 files) and reports."""
    person = dict(party_id_type="RIC", party_name="张三", party_category="farmer", industry_code="")
    from tests.publish.helpers import ric

    for inst in (institution(), institution(OTHER, OTHER_AREA)):
        with factory() as session, session.begin():
            submission = accepted_submission(session, inst.institution_id, period)
            table = guarantees(guarantee("G1"), guarantee("G2", outstanding_balance="5.00"),
                               guarantee("P1", party_id=ric("50011319800101123"), **person))
            q.enqueue_filing(session, blobs, filing_for(submission, table, inst))


def sealed_file(guarantee_id: str, serial: int) -> tuple[str, bytes]:
    plan = pboc.plan(None, guarantees(guarantee(guarantee_id)), AREA, dt.date(2025, 12, 31))
    [f] = pboc.render_files(plan, AREA, CREATED, lambda prefix: serial)
    return f.exchanged_name, envelope().seal(f.name, f.body)


def queue_files(factory: sessionmaker[Session], blobs: BlobStore, n: int, institution_id: str = GUARANTOR) -> list[str]:
    """``n`` small PBOC files straight into the outbox (no feed state), each with its own serial."""
    keys = []
    with factory() as session, session.begin():
        for serial in range(1, n + 1):
            name, body = sealed_file(f"F{serial:04d}", serial)
            key = blobs.put(body)
            outbox.add_item(session, kind=OutboxKind.PBOC, period="2026-10", idempotency_key=name, method="PUT",
                            endpoint=f"/pboc/files/{name}", content_type="application/octet-stream", body_key=key,
                            body_sha256=key.rsplit("/", 1)[1], body_bytes=len(body), institution_id=institution_id,
                            file_name=name)
            keys.append(name)
    return keys


def held_keys(receivers: Receivers) -> list[str]:
    keys = []
    for url, endpoint in ((receivers.pboc_url, "pboc"), (receivers.cbrc_url, "cbrc")):
        keys += [i["idempotency_key"] for i in requests.get(f"{url}/{endpoint}/received", timeout=5).json()["items"]]
    return keys


def assert_exactly_once(factory: sessionmaker[Session], receivers: Receivers) -> None:
    """The receiver holds every outbox item once, under its key, with its bytes, and the receipt the
    outbox stored is the receiver's original one."""
    held = {}
    for url, endpoint in ((receivers.pboc_url, "pboc"), (receivers.cbrc_url, "cbrc")):
        for entry in requests.get(f"{url}/{endpoint}/received", timeout=5).json()["items"]:
            assert entry["idempotency_key"] not in held
            held[entry["idempotency_key"]] = entry
    with factory() as session:
        items = outbox.list_items(session)
        receipts = outbox.receipts_for(session, [i.id for i in items])
    assert {i.idempotency_key for i in items} == set(held)
    for item in items:
        assert item.state == OutboxState.DELIVERED, (item, item.last_error)
        assert held[item.idempotency_key]["sha256"] == item.body_sha256
        assert receipts[item.id].receipt == held[item.idempotency_key]["receipt"]
        assert receipts[item.id].receipt["receipt_id"] == held[item.idempotency_key]["receipt"]["receipt_id"]


def test_delivers_each_item_once_and_stores_its_receipt(factory, blobs, keys, receivers) -> None:
    setup_registry(factory)
    queue_filings(factory, blobs)
    with factory() as session:
        assert outbox.state_counts(session) == {"pending": 6}  # 2 × (440 file, 230 file, report)
    with requests.Session() as http:
        summary = deliver_due(factory, http, keys, blobs=blobs, config=config_for(receivers))
        assert (summary.delivered, summary.failed, summary.open) == (6, 0, 0)
        assert_exactly_once(factory, receivers)
        again = deliver_due(factory, http, keys, blobs=blobs, config=config_for(receivers))
    assert (again.delivered, again.retried) == (0, 0)
    stats = requests.get(f"{receivers.pboc_url}/pboc/received", timeout=5).json()["stats"]
    assert stats == {"requests": 4, "stored": 4}  # nothing was sent a second time
    with factory() as session:
        item = outbox.list_items(session, kind="pboc")[0]
        assert item.attempts == 1 and item.delivered_at is not None and item.last_error is None


def test_retries_through_500s_timeouts_and_dropped_connections(factory, blobs, keys, make_receivers) -> None:
    setup_registry(factory)
    receivers = make_receivers(Faults(fail_rate=0.3, drop_rate=0.2, delay_rate=0.15, delay=0.8, seed=11))
    queue_filings(factory, blobs)
    queue_files(factory, blobs, 14)
    with requests.Session() as http:
        summary = deliver_due(factory, http, keys, blobs=blobs, rng=random.Random(3),
                              config=config_for(receivers, read_timeout=0.3))
    assert (summary.delivered, summary.failed, summary.open) == (20, 0, 0)
    assert summary.retried > 0
    assert_exactly_once(factory, receivers)
    stats = {}
    for url, endpoint in ((receivers.pboc_url, "pboc"), (receivers.cbrc_url, "cbrc")):
        for name, n in requests.get(f"{url}/{endpoint}/received", timeout=5).json()["stats"].items():
            stats[name] = stats.get(name, 0) + n
    assert stats["fault_500"] and stats["fault_drop"] and stats["fault_delay"]
    assert stats["replayed"] >= 1 and stats["stored"] == 20  # lost answers were answered again, not stored again
    with factory() as session:
        retried = [i for i in outbox.list_items(session) if i.attempts > 1]
    assert retried


def test_parallel_senders_deliver_each_item_once(factory, blobs, keys, make_receivers) -> None:
    setup_registry(factory)
    receivers = make_receivers(Faults(fail_rate=0.2, drop_rate=0.2, seed=5))
    queue_files(factory, blobs, 40)
    with requests.Session() as http:
        summary = deliver_due(factory, http, keys, blobs=blobs, config=config_for(receivers, workers=4))
    assert (summary.delivered, summary.failed) == (40, 0)
    assert_exactly_once(factory, receivers)


def test_a_4xx_stops_the_item_with_the_receivers_message(factory, blobs, receivers) -> None:
    setup_registry(factory)
    queue_files(factory, blobs, 1)
    wrong = SigningKeys.of("some-other-deployment-key", **{GUARANTOR: "not-the-guarantors-key"})
    with requests.Session() as http:
        summary = deliver_due(factory, http, wrong, blobs=blobs, config=config_for(receivers))
        assert (summary.delivered, summary.failed) == (0, 1)
        with factory() as session:
            item = outbox.list_items(session)[0]
            assert item.state == OutboxState.FAILED and item.attempts == 1
            assert item.last_error == "HTTP 401: SIG001: missing or invalid signature"
        assert held_keys(receivers) == []
        # fixed: requeued, delivered
        with factory() as session, session.begin():
            assert outbox.requeue(session, [item.id]) == 1
        right = SigningKeys.of("x", **{GUARANTOR: GUARANTOR_KEY})
        assert deliver_due(factory, http, right, blobs=blobs, config=config_for(receivers)).delivered == 1
    assert_exactly_once(factory, receivers)


def test_409_when_the_key_was_used_with_another_body(factory, blobs, keys, receivers) -> None:
    setup_registry(factory)
    [name] = queue_files(factory, blobs, 1)
    impostor = sealed_file("X9", 1)[1]
    first = requests.put(f"{receivers.pboc_url}/pboc/files/{name}", data=impostor, timeout=5, headers={
        "Idempotency-Key": name, "X-Danbao-Institution": GUARANTOR,
        "X-Danbao-Signature": sign(GUARANTOR_KEY.encode(), impostor)})
    assert first.status_code == 201
    with requests.Session() as http:
        summary = deliver_due(factory, http, keys, blobs=blobs, config=config_for(receivers))
    assert summary.failed == 1 and "IDM002" in summary.errors[0]
    with factory() as session:
        assert outbox.list_items(session)[0].last_error.startswith("HTTP 409: IDM002")


def test_transient_failures_are_rescheduled_in_the_store_then_given_up(factory, blobs, keys, receivers) -> None:
    setup_registry(factory)
    queue_files(factory, blobs, 1)
    closed = receivers.pboc_url.rsplit(":", 1)[0] + ":9"  # nothing listens on the discard port
    config = config_for(receivers, endpoints={"pboc": closed, "cbrc": closed}, connect_timeout=0.3,
                        backoff_base=30.0, backoff_max=60.0, max_wait=0.0, max_attempts=2)
    before = utcnow()
    with requests.Session() as http:
        summary = deliver_due(factory, http, keys, blobs=blobs, config=config, rng=random.Random(1))
        assert (summary.delivered, summary.retried, summary.open) == (0, 1, 1)
        with factory() as session:
            item = outbox.list_items(session)[0]
        assert item.state == OutboxState.PENDING and item.attempts == 1
        assert item.last_error.startswith("connection error")
        assert item.next_attempt_at > before  # the backoff is in the store: a restart honours it
        later = item.next_attempt_at + dt.timedelta(seconds=1)
        summary = deliver_due(factory, http, keys, lambda: later, blobs=blobs, config=config)
    assert summary.failed == 1 and "gave up after 2 attempts: connection error" in summary.errors[0]


def test_a_claim_left_by_a_dead_sender_is_taken_again_after_its_lease(factory, blobs, keys, receivers) -> None:
    setup_registry(factory)
    queue_files(factory, blobs, 1)
    config = config_for(receivers, max_wait=0.0)
    with factory() as session, session.begin():  # a sender claims the item, then dies
        claim = outbox.claim_next(session, utcnow(), config.lease)
    assert claim is not None
    with requests.Session() as http:
        assert deliver_due(factory, http, keys, blobs=blobs, config=config).delivered == 0  # still leased
        after_lease = utcnow() + config.lease + dt.timedelta(seconds=1)
        assert deliver_due(factory, http, keys, lambda: after_lease, blobs=blobs, config=config).delivered == 1
    with factory() as session, session.begin():  # the dead sender's late word changes nothing
        assert not outbox.record_failure(session, claim, "too late")
        assert outbox.list_items(session)[0].attempts == 2
    assert_exactly_once(factory, receivers)


def test_missing_key_stops_the_run_and_leaves_the_item_due(factory, blobs, receivers) -> None:
    setup_registry(factory)
    queue_files(factory, blobs, 1, institution_id=OTHER)  # OTHER has no key of its own
    with requests.Session() as http, pytest.raises(ConfigurationError, match="DANBAO_SIGNING_KEY"):
        deliver_due(factory, http, SigningKeys.of(None, **{GUARANTOR: GUARANTOR_KEY}), blobs=blobs,
                    config=config_for(receivers))
    with factory() as session:
        item = outbox.list_items(session)[0]
    assert item.state == OutboxState.PENDING and item.claim_token is None
