"""The outbox of regulator deliveries, their receipts, the credit-feed states and their feedback.

Plain functions over a ``Session`` that flush but never commit, like ``store.repository``: whoever
makes an item due (a feed state, a supervisory report) adds it in the same transaction, and the
sender commits each step of an item's life on its own.

The sender's protocol, and why it cannot lose or duplicate a delivery:

1. ``claim_next`` (one short transaction): the oldest due item becomes ``sending`` under a fresh
   ``claim_token`` with a lease (``next_attempt_at`` moves to the lease's end) and one more attempt.
   A sender that dies holding a claim leaves the item to be claimed again when the lease runs out.
2. The request is sent outside any transaction, always with the item's idempotency key.
3. ``record_delivery`` stores the receipt and marks the item ``delivered`` in one transaction, or
   ``record_retry``/``record_failure`` put it back or give up. Delivery is recorded whatever the claim
   token (the receiver has the item; that is a fact), the other two only by the claim's holder.

A crash between 2 and 3 means the item is sent again with the same key: the receiver answers with
the original receipt and stores nothing new.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store.models import (
    DeliveryReceipt,
    FeedFeedback,
    FeedState,
    OutboxItem,
    OutboxKind,
    OutboxState,
    utcnow,
)

S = OutboxState
#: States an item can still move out of by itself.
OPEN_STATES: tuple[OutboxState, ...] = (S.PENDING, S.SENDING)


@dataclass(frozen=True)
class Claim:
    """What a sender needs to send one claimed item (detached from any session)."""

    id: int
    kind: OutboxKind
    institution_id: str | None
    idempotency_key: str
    file_name: str | None
    method: str
    endpoint: str
    content_type: str
    body_key: str
    body_sha256: str
    attempts: int
    claim_token: str


# -- writing items --------------------------------------------------------------------------------


def add_item(
    session: Session,
    *,
    kind: OutboxKind | str,
    period: str,
    idempotency_key: str,
    method: str,
    endpoint: str,
    content_type: str,
    body_key: str,
    body_sha256: str,
    body_bytes: int,
    institution_id: str | None = None,
    submission_id: int | None = None,
    feed_id: int | None = None,
    file_name: str | None = None,
    now: dt.datetime | None = None,
) -> OutboxItem:
    """Record an item as due now. The caller's transaction is what makes it due."""
    now = now or utcnow()
    item = OutboxItem(
        kind=OutboxKind(kind),
        institution_id=institution_id,
        period=period,
        submission_id=submission_id,
        feed_id=feed_id,
        idempotency_key=idempotency_key,
        file_name=file_name,
        method=method,
        endpoint=endpoint,
        content_type=content_type,
        body_key=body_key,
        body_sha256=body_sha256,
        body_bytes=body_bytes,
        state=S.PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(item)
    session.flush()
    return item


def get_by_key(session: Session, idempotency_key: str) -> OutboxItem | None:
    return session.scalars(select(OutboxItem).where(OutboxItem.idempotency_key == idempotency_key)).first()


def count_files_with_prefix(session: Session, prefix: str) -> int:
    """How many PBOC files already carry this name prefix (area code, date, record type): the next
    file's serial number is one more."""
    return session.scalar(
        select(func.count()).select_from(OutboxItem).where(OutboxItem.file_name.startswith(prefix, autoescape=True))
    ) or 0


# -- the sender's steps ---------------------------------------------------------------------------


def claim_next(
    session: Session,
    now: dt.datetime,
    lease: dt.timedelta,
    *,
    kinds: Sequence[OutboxKind] | None = None,
    period: str | None = None,
) -> Claim | None:
    """Claim the oldest due item (pending, or sending with an expired lease); None when none is due.

    PostgreSQL: ``FOR UPDATE SKIP LOCKED``, so concurrent senders claim different items. SQLite: the
    store's transactions take the write lock up front (``store.db.make_engine``), which serialises
    claims the same way.
    """
    query = (
        select(OutboxItem)
        .where(OutboxItem.state.in_(OPEN_STATES), OutboxItem.next_attempt_at <= now)
        .order_by(OutboxItem.next_attempt_at, OutboxItem.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if kinds:
        query = query.where(OutboxItem.kind.in_([OutboxKind(k) for k in kinds]))
    if period is not None:
        query = query.where(OutboxItem.period == period)
    item = session.scalars(query).first()
    if item is None:
        return None
    item.state = S.SENDING
    item.attempts = (item.attempts or 0) + 1
    item.claim_token = str(uuid.uuid4())
    item.last_attempt_at = now
    item.next_attempt_at = now + lease
    session.flush()
    return Claim(
        id=item.id,
        kind=item.kind,
        institution_id=item.institution_id,
        idempotency_key=item.idempotency_key,
        file_name=item.file_name,
        method=item.method,
        endpoint=item.endpoint,
        content_type=item.content_type,
        body_key=item.body_key,
        body_sha256=item.body_sha256,
        attempts=item.attempts,
        claim_token=item.claim_token,
    )


def next_due_at(
    session: Session, *, kinds: Sequence[OutboxKind] | None = None, period: str | None = None
) -> dt.datetime | None:
    """When the next open item becomes claimable (None: nothing left to send)."""
    query = select(func.min(OutboxItem.next_attempt_at)).where(OutboxItem.state.in_(OPEN_STATES))
    if kinds:
        query = query.where(OutboxItem.kind.in_([OutboxKind(k) for k in kinds]))
    if period is not None:
        query = query.where(OutboxItem.period == period)
    return session.scalar(query)  # min() keeps the column's type: an aware UTC instant on both backends


def record_delivery(
    session: Session, item_id: int, http_status: int, receipt: Mapping[str, Any], now: dt.datetime | None = None
) -> bool:
    """Store the receipt and mark the item delivered, in the caller's transaction. False when the item
    was already delivered (another sender's identical receipt is the one kept)."""
    now = now or utcnow()
    marked = session.execute(
        update(OutboxItem)
        .where(OutboxItem.id == item_id, OutboxItem.state != S.DELIVERED)
        .values(state=S.DELIVERED, delivered_at=now, last_error=None, claim_token=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not marked:
        return False
    try:
        with session.begin_nested():
            session.add(
                DeliveryReceipt(outbox_item_id=item_id, http_status=http_status, receipt=dict(receipt), received_at=now)
            )
    except IntegrityError:
        return False
    return True


def record_retry(session: Session, claim: Claim, error: str, next_attempt_at: dt.datetime) -> bool:
    """Put a claimed item back to pending after a transient failure. False if the claim was lost."""
    return _release(session, claim, state=S.PENDING, last_error=error, next_attempt_at=next_attempt_at)


def record_failure(session: Session, claim: Claim, error: str) -> bool:
    """Mark a claimed item failed (the receiver refused it, or retries are exhausted)."""
    return _release(session, claim, state=S.FAILED, last_error=error)


def _release(session: Session, claim: Claim, **values: Any) -> bool:
    return bool(
        session.execute(
            update(OutboxItem)
            .where(
                OutboxItem.id == claim.id,
                OutboxItem.claim_token == claim.claim_token,
                OutboxItem.state == S.SENDING,
            )
            .values(claim_token=None, **values)
            .execution_options(synchronize_session=False)
        ).rowcount
    )


def requeue(session: Session, item_ids: Iterable[int], now: dt.datetime | None = None) -> int:
    """Make failed items pending again (after the cause was fixed, e.g. a signing key); returns how many."""
    ids = list(item_ids)
    if not ids:
        return 0
    return session.execute(
        update(OutboxItem)
        .where(OutboxItem.id.in_(ids), OutboxItem.state == S.FAILED)
        .values(state=S.PENDING, next_attempt_at=now or utcnow(), claim_token=None)
        .execution_options(synchronize_session=False)
    ).rowcount


# -- reading --------------------------------------------------------------------------------------


def list_items(
    session: Session,
    period: str | None = None,
    *,
    kind: OutboxKind | str | None = None,
    state: OutboxState | str | None = None,
    institution_id: str | None = None,
) -> list[OutboxItem]:
    query = select(OutboxItem).order_by(OutboxItem.id)
    if period is not None:
        query = query.where(OutboxItem.period == period)
    if kind is not None:
        query = query.where(OutboxItem.kind == OutboxKind(kind))
    if state is not None:
        query = query.where(OutboxItem.state == OutboxState(state))
    if institution_id is not None:
        query = query.where(OutboxItem.institution_id == institution_id)
    return list(session.scalars(query))


def receipts_for(session: Session, item_ids: Iterable[int]) -> dict[int, DeliveryReceipt]:
    ids = list(item_ids)
    if not ids:
        return {}
    rows = session.scalars(select(DeliveryReceipt).where(DeliveryReceipt.outbox_item_id.in_(ids)))
    return {row.outbox_item_id: row for row in rows}


def state_counts(session: Session, period: str | None = None) -> dict[str, int]:
    query = select(OutboxItem.state, func.count()).group_by(OutboxItem.state)
    if period is not None:
        query = query.where(OutboxItem.period == period)
    return {str(state): n for state, n in session.execute(query)}


# -- credit-feed states and feedback --------------------------------------------------------------


def latest_feed(session: Session, institution_id: str) -> FeedState | None:
    """The guarantor's most recent feed: the one the next feed is diffed against."""
    return session.scalars(
        select(FeedState).where(FeedState.institution_id == institution_id).order_by(FeedState.id.desc()).limit(1)
    ).first()


def feed_for_submission(session: Session, submission_id: int) -> FeedState | None:
    return session.scalars(select(FeedState).where(FeedState.submission_id == submission_id)).first()


def add_feed(
    session: Session,
    *,
    institution_id: str,
    period: str,
    submission_id: int,
    base_id: int | None,
    state_key: str,
    record_counts: Mapping[str, Any],
    now: dt.datetime | None = None,
) -> FeedState:
    feed = FeedState(
        institution_id=institution_id,
        period=period,
        submission_id=submission_id,
        base_id=base_id,
        state_key=state_key,
        record_counts=dict(record_counts),
        created_at=now or utcnow(),
    )
    session.add(feed)
    session.flush()
    return feed


def feed_items(session: Session, feed_id: int) -> list[OutboxItem]:
    return list(session.scalars(select(OutboxItem).where(OutboxItem.feed_id == feed_id).order_by(OutboxItem.id)))


def awaiting_feedback(session: Session, institution_id: str | None = None) -> list[OutboxItem]:
    """Delivered PBOC files whose feedback has not been fetched yet."""
    query = select(OutboxItem).where(
        OutboxItem.kind == OutboxKind.PBOC, OutboxItem.state == S.DELIVERED, OutboxItem.feedback_at.is_(None)
    )
    if institution_id is not None:
        query = query.where(OutboxItem.institution_id == institution_id)
    return list(session.scalars(query.order_by(OutboxItem.id)))


def record_feedback(
    session: Session,
    item: OutboxItem,
    rejections: Sequence[Mapping[str, Any]],
    feedback_key: str,
    now: dt.datetime | None = None,
) -> list[FeedFeedback]:
    """Store a file's feedback: one row per rejected record, and the fetch on the item."""
    if item.feed_id is None:
        raise ValueError(f"outbox item {item.id} is not a feed file")
    now = now or utcnow()
    rows = [
        FeedFeedback(
            feed_id=item.feed_id,
            outbox_item_id=item.id,
            file_name=item.file_name or "",
            record_no=int(r["record_no"]),
            account_code=str(r["account_code"]),
            report_date_code=str(r["report_date_code"]),
            error_code=str(r["error_code"]),
            recorded_at=now,
        )
        for r in rejections
    ]
    session.add_all(rows)
    item.feedback_at = now
    item.feedback_key = feedback_key
    item.feedback_rejected = len({r.record_no for r in rows})
    session.flush()
    return rows


def feedback_for(session: Session, *, feed_id: int | None = None, item_ids: Iterable[int] | None = None) -> list[FeedFeedback]:
    query = select(FeedFeedback).order_by(FeedFeedback.id)
    if feed_id is not None:
        query = query.where(FeedFeedback.feed_id == feed_id)
    if item_ids is not None:
        query = query.where(FeedFeedback.outbox_item_id.in_(list(item_ids)))
    return list(session.scalars(query))
