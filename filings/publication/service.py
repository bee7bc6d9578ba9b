"""Publishing a period, as the ``danbao publish`` command and the Dagster assets run it.

``enqueue_period`` queues what each accepted filing of the period owes (its credit-feed files, its
supervisory report) and the period's summary; ``publish_period`` also fetches outstanding PBOC
feedback, delivers everything due, and fetches the new files' feedback, twice if a feed that was held
for feedback can go out in the same run.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors.publish.envelope import Envelope
from connectors.publish.signing import SigningKeys
from filings.lifecycle import settle_published
from filings.publication import enqueue as q
from filings.publication.delivery import DeliverySummary, SenderConfig, deliver_due
from filings.publication.feedback import FeedbackSummary, fetch_feedback
from filings.publication.inputs import Loader
from filings.record import filings_of_record
from filings.secrets import default_envelope
from store import outbox
from store.blobs import BlobStore
from store.models import OutboxItem, OutboxKind, utcnow
from store.registry import registry_snapshot

log = logging.getLogger("danbao.publish")


@dataclass
class PeriodOutcome:
    period: str
    filings: list[q.FilingOutcome] = field(default_factory=list)
    summary_key: str | None = None
    errors: list[str] = field(default_factory=list)  # filings that could not be published

    def held(self) -> list[q.FilingOutcome]:
        return [f for f in self.filings if f.feed == q.FEED_HELD]


@dataclass
class PublishResult:
    period: str
    rounds: list[PeriodOutcome] = field(default_factory=list)
    delivery: DeliverySummary = field(default_factory=DeliverySummary)
    feedback: FeedbackSummary = field(default_factory=FeedbackSummary)
    published: list[int] = field(default_factory=list)  # submissions that reached ``published``

    @property
    def last(self) -> PeriodOutcome | None:
        return self.rounds[-1] if self.rounds else None


def enqueue_period(
    session_factory: sessionmaker[Session],
    blobs: BlobStore,
    period: str,
    *,
    institution_ids: Iterable[str] | None = None,
    load: Loader,
    envelope: Envelope | None = None,
) -> PeriodOutcome:
    """Queue each filing of record's feed and report (one transaction per filing), then the summary."""
    result = PeriodOutcome(period)
    with session_factory() as session:
        registry = registry_snapshot(session)
        submissions = filings_of_record(session, period, institution_ids)
        done = _fully_queued(session, [s.id for s in submissions])
    for submission in submissions:
        if submission.institution_id not in registry:
            result.errors.append(f"{submission.institution_id}: not in the registry")
            continue
        if submission.id in done:  # fed and reported before: no need to read the package again
            result.filings.append(q.FilingOutcome(submission.institution_id, period, submission.id,
                                                  feed=q.FEED_ALREADY, report="already"))
            continue
        try:
            filing = load(blobs, submission, registry)
        except Exception as exc:  # one unreadable filing must not stop the others
            log.exception("cannot publish submission %s", submission.id)
            result.errors.append(f"{submission.institution_id} #{submission.sequence}: {type(exc).__name__}: {exc}")
            continue
        with session_factory() as session, session.begin():
            outcome = q.enqueue_filing(session, blobs, filing, envelope=envelope)
        result.filings.append(outcome)
        log.info("%s #%s: feed %s (%d file(s)), report %s", outcome.institution_id, submission.sequence,
                 outcome.feed, len(outcome.files), outcome.report)
    with session_factory() as session, session.begin():
        result.summary_key = q.enqueue_summary(session, blobs, period)
    return result


def _fully_queued(session: Session, submission_ids: list[int]) -> set[int]:
    if not submission_ids:
        return set()
    fed = {f.submission_id for f in (outbox.feed_for_submission(session, i) for i in submission_ids) if f}
    reported = set(session.scalars(select(OutboxItem.submission_id).where(
        OutboxItem.kind == OutboxKind.CBRC, OutboxItem.submission_id.in_(submission_ids))))
    return fed & reported


def publish_period(
    session_factory: sessionmaker[Session],
    blobs: BlobStore,
    http: requests.Session,
    keys: SigningKeys,
    config: SenderConfig,
    period: str,
    *,
    institution_ids: Iterable[str] | None = None,
    enqueue: bool = True,
    deliver: bool = True,
    load: Loader,
    envelope: Envelope | None = None,
) -> PublishResult:
    result = PublishResult(period)
    envelope = envelope or default_envelope()
    ids = list(institution_ids) if institution_ids else None
    timeout = (config.connect_timeout, config.read_timeout)
    pboc_url = config.endpoints["pboc"]
    if deliver:  # earlier feeds' feedback first: a feed waits for its predecessor's
        _add_feedback(result.feedback, fetch_feedback(session_factory, http, keys, pboc_url, blobs, timeout=timeout,
                                                     envelope=envelope))
    for _ in range(2):
        if enqueue:
            result.rounds.append(enqueue_period(session_factory, blobs, period, institution_ids=ids, load=load,
                                                envelope=envelope))
        if not deliver:
            break
        result.delivery.merge(deliver_due(session_factory, http, keys, blobs=blobs, config=config))
        feedback = fetch_feedback(session_factory, http, keys, pboc_url, blobs, timeout=timeout, envelope=envelope)
        _add_feedback(result.feedback, feedback)
        if not (enqueue and feedback.settled_feeds and result.rounds and result.rounds[-1].held()):
            break
    with session_factory() as session, session.begin():
        result.published = settle_published(session, period)
        counts = outbox.state_counts(session)
    result.delivery.open = counts.get("pending", 0) + counts.get("sending", 0)
    return result


def _add_feedback(total: FeedbackSummary, part: FeedbackSummary) -> None:
    total.fetched += part.fetched
    total.not_ready += part.not_ready
    total.rejected_records += part.rejected_records
    total.settled_feeds += part.settled_feeds
    total.errors.extend(part.errors)


@dataclass
class DryRunFile:
    institution_id: str
    plain: str  # path of the .txt written
    sealed: str  # path of the .enc written
    records: int


def dry_run_period(
    session_factory: sessionmaker[Session],
    blobs: BlobStore,
    period: str,
    out_dir: Path,
    *,
    load: Loader,
    envelope: Envelope,
    institution_ids: Iterable[str] | None = None,
    now: dt.datetime | None = None,
) -> tuple[list[DryRunFile], list[str]]:
    """The credit-feed files each filing of record would send now, as plain ``.txt`` and sealed
    ``.enc`` under ``out_dir``: read-only (every transaction is rolled back, no blob is written, nothing
    is sent). Returns the files and notes on filings that would send nothing (held, superseded, fed)."""
    now = now or utcnow()
    out_dir.mkdir(parents=True, exist_ok=True)
    written, notes = [], []
    with session_factory() as session:
        registry = registry_snapshot(session)
        submissions = filings_of_record(session, period, list(institution_ids) if institution_ids else None)
        for submission in submissions:
            if submission.institution_id not in registry:
                notes.append(f"{submission.institution_id}: not in the registry")
                continue
            filing = load(blobs, submission, registry)
            draft = q.draft_feed(session, blobs, filing, now)
            if draft.status != q.FEED_QUEUED:
                notes.append(f"{submission.institution_id} #{submission.sequence}: feed {draft.status}"
                             + (f" ({draft.note})" if draft.note else ""))
                continue
            if not draft.files:
                notes.append(f"{submission.institution_id} #{submission.sequence}: nothing changed, no file")
            for f in draft.files:
                plain, sealed = out_dir / f.name, out_dir / f.exchanged_name
                plain.write_bytes(f.body)
                sealed.write_bytes(envelope.seal(f.name, f.body))
                written.append(DryRunFile(submission.institution_id, str(plain), str(sealed), f.records))
        session.rollback()
    return written, notes
