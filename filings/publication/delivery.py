"""Delivery: drains the outbox to the regulators' endpoints, exactly once (outputs.md §5).

Each item is claimed, signed and sent with its idempotency key; the receiver's receipt is stored in
the transaction that marks the item delivered (``store.outbox`` explains why a crash at any point
neither loses nor duplicates a delivery). Timeouts, connection errors, 408/425/429 and 5xx are retried
with exponential backoff and full jitter, the next attempt's time kept in the store so that backoff
survives a restart; any other 4xx stops the item as ``failed`` with the receiver's message. The HTTP
exchange itself is ``connectors.publish.transport``'s.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import requests
from sqlalchemy.orm import Session, sessionmaker

from connectors.publish.signing import MissingKeyError, SigningKeys
from connectors.publish.transport import Delivery, Outcome, SenderConfig, clone_session, config_with, send
from store import outbox
from store.blobs import BlobError, BlobStore
from store.models import OutboxKind, OutboxState, utcnow

__all__ = ["ConfigurationError", "DeliverySummary", "SenderConfig", "config_with", "deliver_due"]

log = logging.getLogger("danbao.publish.sender")


@dataclass
class DeliverySummary:
    delivered: int = 0
    failed: int = 0
    retried: int = 0  # attempts that failed transiently and were rescheduled
    open: int = 0  # items still pending or sending when the run returned
    errors: list[str] = field(default_factory=list)  # the failures' messages (bounded)
    elapsed: float = 0.0

    def merge(self, other: DeliverySummary) -> None:
        self.delivered += other.delivered
        self.failed += other.failed
        self.retried += other.retried
        self.errors.extend(other.errors[: max(0, 50 - len(self.errors))])


class ConfigurationError(RuntimeError):
    """The sender cannot sign or address an item: nothing is sent until the setup is fixed."""


def deliver_due(
    session_factory: sessionmaker[Session],
    http: requests.Session,
    keys: SigningKeys,
    now: Callable[[], dt.datetime] = utcnow,
    *,
    blobs: BlobStore,
    config: SenderConfig,
    period: str | None = None,
    kinds: Sequence[OutboxKind] | None = None,
    rng: random.Random | None = None,
) -> DeliverySummary:
    """Send every due item (of ``period`` and ``kinds`` when given) until none is left or the next
    retry is further away than ``config.max_wait``; returns what happened."""
    started = time.monotonic()
    deadline = started + config.max_wait
    rng = rng or random.Random()
    workers = max(1, config.workers)
    summaries = [DeliverySummary() for _ in range(workers)]
    stop = threading.Event()
    failures: list[BaseException] = []

    seeds = [rng.random() for _ in range(workers)]

    def run(index: int) -> None:
        session = http if index == 0 else clone_session(http)
        try:
            _work(session_factory, session, keys, now, blobs, config, period, kinds,
                  random.Random(seeds[index]), deadline, stop, summaries[index])
        except BaseException as exc:  # surfaced in the caller's thread below
            failures.append(exc)
            stop.set()
        finally:
            if session is not http:
                session.close()

    if workers == 1:
        run(0)
    else:
        threads = [threading.Thread(target=run, args=(i,), name=f"danbao-sender-{i}") for i in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    if failures:
        raise failures[0]
    summary = DeliverySummary()
    for part in summaries:
        summary.merge(part)
    with session_factory() as session:
        counts = outbox.state_counts(session, period)
    summary.open = counts.get(str(OutboxState.PENDING), 0) + counts.get(str(OutboxState.SENDING), 0)
    summary.elapsed = time.monotonic() - started
    return summary


def _work(
    session_factory: sessionmaker[Session],
    http: requests.Session,
    keys: SigningKeys,
    now: Callable[[], dt.datetime],
    blobs: BlobStore,
    config: SenderConfig,
    period: str | None,
    kinds: Sequence[OutboxKind] | None,
    rng: random.Random,
    deadline: float,
    stop: threading.Event,
    summary: DeliverySummary,
) -> None:
    while not stop.is_set():
        with session_factory() as session, session.begin():
            claim = outbox.claim_next(session, now(), config.lease, kinds=kinds, period=period)
        if claim is None:
            with session_factory() as session:
                due = outbox.next_due_at(session, kinds=kinds, period=period)
            if due is None:
                return
            wait = max((due - now()).total_seconds(), 0.01)
            if time.monotonic() + wait > deadline:
                return
            time.sleep(min(wait, 1.0))  # re-check at least every second: another worker may finish
            continue
        try:
            outcome = _attempt(http, keys, blobs, config, claim)
        except ConfigurationError as exc:  # give the claim back untouched, then stop the run
            with session_factory() as session, session.begin():
                outbox.record_retry(session, claim, str(exc), now())
            raise
        _record(session_factory, config, claim, outcome, now, rng, summary)


def _attempt(http: requests.Session, keys: SigningKeys, blobs: BlobStore, config: SenderConfig,
             claim: outbox.Claim) -> Outcome:
    try:
        key = keys.key_for(claim.institution_id)
    except MissingKeyError as exc:
        raise ConfigurationError(str(exc)) from None
    try:
        body = blobs.get(claim.body_key)  # checks the bytes against their content address
    except (OSError, BlobError) as exc:
        return Outcome("failed", error=f"body {claim.body_key} unreadable: {type(exc).__name__}")
    if hashlib.sha256(body).hexdigest() != claim.body_sha256:
        return Outcome("failed", error=f"body {claim.body_key} does not match the item's SHA-256")
    delivery = Delivery(kind=str(claim.kind), method=claim.method, path=claim.endpoint, body=body,
                        body_sha256=claim.body_sha256, content_type=claim.content_type,
                        idempotency_key=claim.idempotency_key, institution_id=claim.institution_id)
    return send(http, key, delivery, config)


def _record(session_factory: sessionmaker[Session], config: SenderConfig, claim: outbox.Claim,
            outcome: Outcome, now: Callable[[], dt.datetime], rng: random.Random,
            summary: DeliverySummary) -> None:
    with session_factory() as session, session.begin():
        if outcome.kind == "delivered":
            assert outcome.receipt is not None and outcome.status is not None
            if outbox.record_delivery(session, claim.id, outcome.status, outcome.receipt, now()):
                summary.delivered += 1
                log.info("delivered item %s (%s) after %d attempt(s)", claim.id, claim.idempotency_key, claim.attempts)
            return
        error = outcome.error or "unknown error"
        if outcome.kind == "retry" and claim.attempts < config.max_attempts:
            delay = config.backoff(claim.attempts, rng)
            if outcome.retry_after is not None:
                delay = max(delay, min(outcome.retry_after, config.backoff_max))
            if outbox.record_retry(session, claim, error, now() + dt.timedelta(seconds=delay)):
                summary.retried += 1
                log.warning("item %s (%s) attempt %d: %s; retrying in %.2f s",
                            claim.id, claim.idempotency_key, claim.attempts, error, delay)
            return
        if outcome.kind == "retry":
            error = f"gave up after {claim.attempts} attempts: {error}"
        if outbox.record_failure(session, claim, error):
            summary.failed += 1
            if len(summary.errors) < 50:
                summary.errors.append(f"{claim.idempotency_key}: {error}")
            log.error("item %s (%s) failed: %s", claim.id, claim.idempotency_key, error)
