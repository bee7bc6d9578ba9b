"""The late-filing calendar: a period's deadline, and who had no accepted filing by it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from store import repository as repo
from store.models import Submission
from validations.context import BEIJING, Period, now_beijing


class DeadlineNotPassedError(ValueError):
    """Late filings are only known once the deadline has passed."""


def deadline_for(period: str, day: int = 15) -> dt.date:
    """The filing deadline of ``period``: ``day`` of the following month."""
    following = Period.parse(period).next()
    return dt.date(following.year, following.month, day)


def cutoff_for(deadline: dt.date) -> dt.datetime:
    """The first instant after the deadline day, Beijing time."""
    return dt.datetime.combine(deadline + dt.timedelta(days=1), dt.time(0), BEIJING)


def detect_late_filings(
    session: Session, period: str, deadline: dt.date, *, now: dt.datetime | None = None
) -> list[str]:
    """Record, and return, every active guarantor with no accepted filing for ``period``, once the
    deadline day has ended (Beijing time). Recording is idempotent, and a late filing once recorded
    stays recorded: the schedule runs this the day after the deadline, so that first record is the fact,
    whatever is accepted later.
    """
    now = now or now_beijing()
    if now < cutoff_for(deadline):
        raise DeadlineNotPassedError(f"the deadline for {period} ({deadline}) has not passed yet")
    accepted = set(
        session.scalars(
            select(Submission.institution_id)
            .where(Submission.period == period, Submission.state.in_(repo.ACCEPTED_STATES))
            .distinct()
        )
    )
    late = [i.institution_id for i in repo.list_institutions(session, status="active") if i.institution_id not in accepted]
    for institution_id in late:
        repo.record_late_filing(session, institution_id, period, deadline)
    return late
