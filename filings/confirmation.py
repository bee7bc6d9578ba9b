"""Confirming a filing's warnings: the guarantor's justification makes it accepted."""

from __future__ import annotations

from sqlalchemy.orm import Session

from store import repository as repo
from store.models import Submission, SubmissionState


def confirm_submission(session: Session, submission_id: int) -> Submission:
    """Accept a filing whose warnings the guarantor has confirmed (the portal's confirmation step)."""
    submission = repo.get_submission(session, submission_id)
    if submission is None:
        raise LookupError(f"no submission {submission_id}")
    submission.planned_at = None  # its datasets and deliveries are planned at once, not after a lease
    return repo.set_state(session, submission, SubmissionState.ACCEPTED)
