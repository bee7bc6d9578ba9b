"""Making deliveries due: a filing's credit-feed files and supervisory report, a period's summary.

Each function works inside the caller's transaction and flushes without committing: the feed state
and the outbox items it makes due are committed together or not at all, so a crash leaves either
both or neither. Bodies go to the (content-addressed, append-only) blob store first; a blob whose
transaction then rolls back is an unreferenced file, never a lost or half-made delivery.

Idempotent: a submission already fed or reported is skipped, so publishing a period again (after a
crash, from a schedule) queues only what is missing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connectors.publish import cbrc, pboc
from connectors.publish.envelope import Envelope
from filings.secrets import default_envelope
from store import outbox
from store import repository as repo
from store.blobs import BlobStore
from store.models import FeedState, Institution, LateFiling, OutboxItem, OutboxKind, utcnow
from validations.context import Period
from validations.results import AcceptedFiling

PBOC_CONTENT_TYPE = "application/octet-stream"  # the .enc envelope
JSON_CONTENT_TYPE = "application/json"

# What happened to a filing's credit feed.
FEED_QUEUED = "queued"  # files queued (or none needed: the state is already accepted)
FEED_ALREADY = "already"  # this submission was fed before
FEED_HELD = "held"  # the previous feed's feedback is not all in (or one of its files failed)
FEED_SUPERSEDED = "superseded"  # a later period was fed already; an older one is not sent


@dataclass
class FilingOutcome:
    institution_id: str
    period: str
    submission_id: int
    feed: str
    files: list[str] = field(default_factory=list)
    records: dict[str, dict[str, int]] = field(default_factory=dict)
    report: str | None = None  # queued | already | None (not asked)
    note: str | None = None


def enqueue_filing(
    session: Session,
    blobs: BlobStore,
    filing: AcceptedFiling,
    *,
    late: bool | None = None,
    feed: bool = True,
    report: bool = True,
    now: dt.datetime | None = None,
    envelope: Envelope | None = None,
) -> FilingOutcome:
    """Queue the filing's credit-feed files (sealed in ``envelope``, by default the configured one)
    and its supervisory report. ``late`` defaults to whether the store recorded the guarantor as late
    for the period."""
    now = now or utcnow()
    result = FilingOutcome(filing.institution.institution_id, filing.period, filing.submission_id, feed="skipped")
    if feed:
        enqueue_feed(session, blobs, filing, result, now, envelope)
    if report:
        if late is None:
            late = _is_late(session, filing.institution.institution_id, filing.period)
        result.report = enqueue_report(session, blobs, filing, late=late, now=now)
    return result


# -- the credit feed ------------------------------------------------------------------------------


@dataclass
class FeedDraft:
    """A filing's feed before anything is written: the plan, its rendered files and the base it was
    diffed against (``None`` when the feed cannot go out: see ``status``)."""

    status: str
    note: str | None = None
    latest: FeedState | None = None
    plan: pboc.Plan | None = None
    files: list[pboc.FeedFile] = field(default_factory=list)


def draft_feed(session: Session, blobs: BlobStore, filing: AcceptedFiling, now: dt.datetime) -> FeedDraft:
    """The filing's feed as it would be sent now, reading the store and writing nothing (the dry run
    and ``enqueue_feed`` share it)."""
    institution = filing.institution
    existing = outbox.feed_for_submission(session, filing.submission_id)
    if existing is not None:
        return FeedDraft(FEED_ALREADY, latest=existing)
    latest = outbox.latest_feed(session, institution.institution_id)
    if latest is not None and latest.period > filing.period:
        return FeedDraft(FEED_SUPERSEDED, f"the feed of {latest.period} is newer; a filing for {filing.period} is not fed")
    if latest is not None and latest.accepted_key is None:
        return FeedDraft(FEED_HELD, _why_held(session, latest), latest)
    base = pboc.state_from_parquet(blobs.get(latest.accepted_key)) if latest is not None and latest.accepted_key else None
    plan = pboc.plan(base, pboc_view(filing.guarantees), institution.pboc_area_code, Period.parse(filing.period).end)
    made: dict[str, int] = {}

    def serial_of(prefix: str) -> int:
        made[prefix] = made.get(prefix, outbox.count_files_with_prefix(session, prefix)) + 1
        return made[prefix]

    files = pboc.render_files(plan, institution.pboc_area_code, now, serial_of)
    return FeedDraft(FEED_QUEUED, latest=latest, plan=plan, files=files)


def enqueue_feed(
    session: Session, blobs: BlobStore, filing: AcceptedFiling, result: FilingOutcome, now: dt.datetime,
    envelope: Envelope | None = None,
) -> FilingOutcome:
    institution = filing.institution
    _lock(session, f"danbao.feed/{institution.institution_id}")
    draft = draft_feed(session, blobs, filing, now)
    if draft.status == FEED_ALREADY:
        assert draft.latest is not None
        result.feed = FEED_ALREADY
        result.files = [i.file_name or "" for i in outbox.feed_items(session, draft.latest.id)]
        result.records = draft.latest.record_counts or {}
        return result
    if draft.status != FEED_QUEUED:
        result.feed, result.note = draft.status, draft.note
        return result
    assert draft.plan is not None
    envelope = envelope or default_envelope()
    state_key = blobs.put(pboc.state_to_parquet(draft.plan.state))
    fed = outbox.add_feed(
        session,
        institution_id=institution.institution_id,
        period=filing.period,
        submission_id=filing.submission_id,
        base_id=draft.latest.id if draft.latest is not None else None,
        state_key=state_key,
        record_counts=draft.plan.counts,
        now=now,
    )
    for f in draft.files:
        name = f.exchanged_name
        _add(session, blobs, envelope.seal(f.name, f.body), kind=OutboxKind.PBOC, period=filing.period,
             idempotency_key=name, method="PUT", endpoint=f"/pboc/files/{name}", content_type=PBOC_CONTENT_TYPE,
             institution_id=institution.institution_id, submission_id=filing.submission_id, feed_id=fed.id,
             file_name=name, now=now)
        result.files.append(name)
    if not result.files:  # nothing changed: the PBOC holds this state already
        fed.accepted_key, fed.accepted_at = state_key, now
    result.feed, result.records = FEED_QUEUED, draft.plan.counts
    session.flush()
    return result


def _why_held(session: Session, feed: FeedState) -> str:
    items = outbox.feed_items(session, feed.id)
    failed = [i.file_name for i in items if i.state == "failed"]
    if failed:
        return (f"file(s) {', '.join(map(str, failed))} of the {feed.period} feed failed: requeue them "
                "(danbao deliveries --requeue) once the cause is fixed")
    waiting = [i.file_name for i in items if i.feedback_at is None]
    return f"waiting for the PBOC's feedback on {', '.join(map(str, waiting))} (feed of {feed.period})"


# -- the supervisory report and summary -----------------------------------------------------------


def enqueue_report(
    session: Session, blobs: BlobStore, filing: AcceptedFiling, *, late: bool, now: dt.datetime
) -> str:
    already = session.scalars(
        select(OutboxItem.id).where(
            OutboxItem.kind == OutboxKind.CBRC, OutboxItem.submission_id == filing.submission_id
        )
    ).first()
    if already is not None:
        return "already"
    body = cbrc.canonical_json(cbrc.build_report(filing, late=late))
    sha = hashlib.sha256(body).hexdigest()
    key = f"cbrc-report:{filing.institution.institution_id}:{filing.period}:{sha}"
    if outbox.get_by_key(session, key) is not None:
        return "already"
    _add(session, blobs, body, kind=OutboxKind.CBRC, period=filing.period, idempotency_key=key, method="POST",
         endpoint="/cbrc/reports", content_type=JSON_CONTENT_TYPE,
         institution_id=filing.institution.institution_id, submission_id=filing.submission_id, now=now)
    return "queued"


def enqueue_summary(session: Session, blobs: BlobStore, period: str, now: dt.datetime | None = None) -> str | None:
    """Queue the period's summary over each guarantor's latest queued report (and the late ones), unless
    an identical summary was queued before. Returns its idempotency key, or None with nothing to sum up."""
    latest_ids = session.scalars(
        select(func.max(OutboxItem.id))
        .where(OutboxItem.kind == OutboxKind.CBRC, OutboxItem.period == period)
        .group_by(OutboxItem.institution_id)
    ).all()
    reports = [json.loads(blobs.get(item.body_key)) for item in
               session.scalars(select(OutboxItem).where(OutboxItem.id.in_(latest_ids)))]
    late = [{"institution_id": late.institution_id, "name": name}
            for late, name in session.execute(
                select(LateFiling, Institution.name)
                .join(Institution, Institution.institution_id == LateFiling.institution_id)
                .where(LateFiling.period == period))]  # fmt: skip
    if not reports and not late:
        return None
    body = cbrc.canonical_json(cbrc.build_summary(period, reports, late, run_off_lines(session, blobs, period)))
    key = f"cbrc-summary:{period}:{hashlib.sha256(body).hexdigest()}"
    if outbox.get_by_key(session, key) is None:
        _add(session, blobs, body, kind=OutboxKind.CBRC_SUMMARY, period=period, idempotency_key=key,
             method="POST", endpoint="/cbrc/summaries", content_type=JSON_CONTENT_TYPE, now=now)
    return key


def run_off_lines(session: Session, blobs: BlobStore, period: str) -> list[dict[str, Any]]:
    """Every guarantor the registry lists as ``exited`` (六(十四)), with its last CBRC report up to
    ``period`` (the registry's ``exited`` rejects later filings, FMT-006, so that report is the last word
    on its book until it is run off)."""
    lines = []
    for institution in repo.list_institutions(session, status="exited"):
        item = session.scalars(
            select(OutboxItem)
            .where(OutboxItem.kind == OutboxKind.CBRC, OutboxItem.institution_id == institution.institution_id,
                   OutboxItem.period <= period)
            .order_by(OutboxItem.period.desc(), OutboxItem.id.desc())
        ).first()
        report = json.loads(blobs.get(item.body_key)) if item is not None else None
        lines.append(cbrc.run_off_line(institution.institution_id, institution.name, report))
    return lines


# -- helpers --------------------------------------------------------------------------------------


def _add(session: Session, blobs: BlobStore, body: bytes, **item: Any) -> OutboxItem:
    key = blobs.put(body)
    return outbox.add_item(session, body_key=key, body_sha256=key.rsplit("/", 1)[1], body_bytes=len(body), **item)


def pboc_view(guarantees: pa.Table) -> pa.Table:
    """The guarantees as the credit feed reads them: template 1.1's ``rural_property`` counter-guarantee
    (农村产权抵押, 二(二)) is a mortgage to the PBOC's GuarMode, so it is fed as ``mortgage``. The feed
    layout itself (connectors/publish/pboc.py) knows template 1.0's codes only."""
    column = guarantees["counter_guarantee"]
    if not pc.any(pc.equal(column, "rural_property")).as_py():
        return guarantees
    mapped = pc.replace_substring(column, "rural_property", "mortgage")
    return guarantees.set_column(guarantees.column_names.index("counter_guarantee"), "counter_guarantee", mapped)


def _is_late(session: Session, institution_id: str, period: str) -> bool:
    return any(late.institution_id == institution_id for late in repo.list_late_filings(session, period))


def _lock(session: Session, name: str) -> None:
    """Serialise feeds of one guarantor on PostgreSQL (SQLite transactions are serial already)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(name, 0))))
