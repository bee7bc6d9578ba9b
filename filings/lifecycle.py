"""Which submissions still need work, read from the store's state, not from any cursor or round.

``received → validating → rejected | needs_confirmation | accepted → published``: a submission is
planned for validation while it is ``received``, or ``validating`` for longer than a lease (whoever
claimed it was killed). An accepted submission, whichever door validated it, is planned for its
datasets and deliveries until its datasets are written; it becomes ``published`` once they are and
every delivery it owes (its credit-feed files and its supervisory report) holds a receipt. So a
process killed at any moment leaves nothing stranded: the next planning round picks it up.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from dataclasses import dataclass

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from store import repository as repo
from store.models import OutboxItem, OutboxState, Submission, SubmissionState, utcnow

#: A validation claimed longer ago than this was abandoned (the process died): it is planned again.
VALIDATION_LEASE = dt.timedelta(minutes=30)
#: The environment variable that overrides ``VALIDATION_LEASE`` (seconds, > 0).
LEASE_VARIABLE = "DANBAO_VALIDATION_LEASE_SECONDS"


def validation_lease() -> dt.timedelta:
    """How long a claimed validation, or a run that has not finished, is trusted to be alive:
    ``$DANBAO_VALIDATION_LEASE_SECONDS``, else 30 minutes. Longer than the longest validation run, so that
    a slow one is never validated twice; a shorter one only makes a killed process's work come back sooner."""
    raw = (os.environ.get(LEASE_VARIABLE) or "").strip()
    if not raw:
        return VALIDATION_LEASE
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"{LEASE_VARIABLE} must be a positive number of seconds, not {raw!r}")
    return dt.timedelta(seconds=seconds)


@dataclass(frozen=True)
class Plan:
    to_validate: list[Submission]
    to_publish: list[Submission]  # accepted, datasets not written yet


def plan(session: Session, *, now: dt.datetime | None = None, lease: dt.timedelta | None = None,
         limit: int | None = None) -> Plan:
    """What the store says is left to do, oldest first (``lease``: default ``validation_lease()``)."""
    stale = (now or utcnow()) - (lease if lease is not None else validation_lease())
    to_validate = select(Submission).where(or_(
        Submission.state == SubmissionState.RECEIVED,
        (Submission.state == SubmissionState.VALIDATING) & (Submission.state_changed_at < stale),
    )).order_by(Submission.id)
    to_publish = select(Submission).where(
        Submission.state == SubmissionState.ACCEPTED, Submission.datasets_published_at.is_(None),
    ).order_by(Submission.id)
    if limit is not None:
        to_validate, to_publish = to_validate.limit(limit), to_publish.limit(limit)
    return Plan(list(session.scalars(to_validate)), list(session.scalars(to_publish)))


def datasets_published(session: Session, submission_id: int) -> None:
    """Record that a submission's datasets are written (its filing results asset, or the CLI)."""
    submission = repo.get_submission(session, submission_id)
    if submission is not None and submission.datasets_published_at is None:
        submission.datasets_published_at = utcnow()
        session.flush()


def settle_published(session: Session, period: str | None = None) -> list[int]:
    """Move to ``published`` every accepted submission whose datasets are written and whose every
    delivery is receipted; returns their ids."""
    owed = (select(OutboxItem.submission_id,
                   func.count().label("owed"),
                   func.sum(case((OutboxItem.state == OutboxState.DELIVERED, 1), else_=0)).label("delivered"))
            .where(OutboxItem.submission_id.is_not(None))
            .group_by(OutboxItem.submission_id).subquery())
    query = (select(Submission).join(owed, owed.c.submission_id == Submission.id)
             .where(Submission.state == SubmissionState.ACCEPTED, Submission.datasets_published_at.is_not(None),
                    owed.c.owed == owed.c.delivered))
    if period is not None:
        query = query.where(Submission.period == period)
    done = []
    for submission in session.scalars(query):
        repo.set_state(session, submission, SubmissionState.PUBLISHED)
        done.append(submission.id)
    return done

