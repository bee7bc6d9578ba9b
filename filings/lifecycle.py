"""Which submissions still need work, read from the store's state, not from any cursor or round.

``received → validating → rejected | needs_confirmation | accepted → published``: a submission is
planned for validation while it is ``received`` (or ``validating`` after its claim's lease ran out:
whoever had it was killed). An accepted submission, whichever door validated it, is planned for its
datasets and deliveries until its datasets are written; it becomes ``published`` once they are and every
delivery it owes (its credit-feed files and its supervisory report) holds a receipt.

Planning claims: ``claim`` stamps ``planned_at`` in the planner's transaction, so a submission is in one
run at a time; a claim older than the lease is taken to be dead (the run's process was killed) and the
submission is planned again, however often. A run that fails on a submission by itself counts an attempt
(``failed_attempt``); after ``MAX_ATTEMPTS`` such failures it is left for an operator. So a process killed at any moment leaves nothing stranded, and the
planner's cost is one indexed query, whatever the number of runs the instance has seen.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.orm import Session

from filings.settings import load
from store import repository as repo
from store.models import OutboxItem, OutboxState, Submission, SubmissionState, utcnow

#: A claim older than this was abandoned (its process died): the submission is planned again.
DEFAULT_LEASE = dt.timedelta(minutes=30)
#: Runs planned for one submission before it is left for an operator.
MAX_ATTEMPTS = 3


#: The environment variable that overrides ``DEFAULT_LEASE`` (seconds, > 0).
LEASE_VARIABLE = "DANBAO_VALIDATION_LEASE_SECONDS"


def lease() -> dt.timedelta:
    """How long a claim, or a run that has not finished, is trusted to be alive:
    ``$DANBAO_VALIDATION_LEASE_SECONDS``, else 30 minutes. Longer than the longest run, so that a slow one
    is never done twice; a shorter one only makes a killed process's work come back sooner."""
    return dt.timedelta(seconds=load().validation_lease_seconds)


validation_lease = lease
VALIDATION_LEASE = DEFAULT_LEASE


@dataclass(frozen=True)
class Plan:
    to_validate: list[Submission]
    to_publish: list[Submission]  # accepted, datasets not written yet


def plan(session: Session, *, now: dt.datetime | None = None, lease_for: dt.timedelta | None = None,
         limit: int | None = None) -> Plan:
    """What the store says is left to do and nobody holds, oldest first."""
    stale = (now or utcnow()) - (lease_for or lease())
    free = and_(or_(Submission.planned_at.is_(None), Submission.planned_at < stale),
                Submission.plan_attempts < MAX_ATTEMPTS)
    to_validate = select(Submission).where(free, or_(
        Submission.state == SubmissionState.RECEIVED,
        (Submission.state == SubmissionState.VALIDATING) & (Submission.state_changed_at < stale),
    )).order_by(Submission.id)
    to_publish = select(Submission).where(
        free, Submission.state == SubmissionState.ACCEPTED, Submission.datasets_published_at.is_(None),
    ).order_by(Submission.id)
    if limit is not None:
        to_validate, to_publish = to_validate.limit(limit), to_publish.limit(limit)
    return Plan(list(session.scalars(to_validate)), list(session.scalars(to_publish)))


def claim(session: Session, submission_ids: Iterable[int], *, now: dt.datetime | None = None) -> None:
    """Stamp the submissions a run was just planned for (in the planner's transaction). A claim is not an
    attempt: a run killed from outside says nothing about its submissions, which come back after the lease
    however often that happens."""
    ids = list(submission_ids)
    if ids:
        session.execute(update(Submission).where(Submission.id.in_(ids)).values(planned_at=now or utcnow()))


def failed_attempt(session: Session, submission_id: int) -> None:
    """A run failed on this submission by itself (an error in its processing): count it, and free the claim
    so that it is tried again at once, until ``MAX_ATTEMPTS`` leave it for an operator."""
    session.execute(update(Submission).where(Submission.id == submission_id)
                    .values(planned_at=None, plan_attempts=Submission.plan_attempts + 1))


def release(session: Session, submission_id: int) -> None:
    """A run finished with this submission (whatever the outcome): the next round may plan it again if
    the store says there is still work, without waiting for the lease."""
    session.execute(update(Submission).where(Submission.id == submission_id).values(planned_at=None))


def datasets_published(session: Session, submission_id: int) -> None:
    """Record that a submission's datasets are written (the filing results step, or the batch)."""
    submission = repo.get_submission(session, submission_id)
    if submission is not None and submission.datasets_published_at is None:
        submission.datasets_published_at = utcnow()
        submission.planned_at = None  # its claim ends: what is left (deliveries) is the period's work
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
