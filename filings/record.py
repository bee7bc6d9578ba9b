"""The filing of record: for a guarantor and period, the accepted (or published) submission with the
highest sequence, whatever came after it. A resubmission replaces it only once it is itself accepted.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from store import repository as repo
from store.models import Submission


def filing_of_record(session: Session, institution_id: str, period: str) -> Submission | None:
    """The submission downstream assets use for (guarantor, period): the accepted one with the
    highest sequence, whatever came after it."""
    return repo.last_accepted(session, institution_id, period)


def filings_of_record(session: Session, period: str, institution_ids: Iterable[str] | None = None) -> list[Submission]:
    """Each guarantor's filing of record for ``period``, by guarantor."""
    wanted = set(institution_ids) if institution_ids else None
    latest: dict[str, Submission] = {}
    for submission in repo.list_submissions(session, period=period):
        if submission.state not in repo.ACCEPTED_STATES:
            continue
        if wanted is not None and submission.institution_id not in wanted:
            continue
        latest[submission.institution_id] = submission  # listed by sequence: the last one wins
    return [latest[k] for k in sorted(latest)]
