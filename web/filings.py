"""Tenancy and the confirmation step, shared by the JSON API and the pages.

Tenancy is enforced here and only here: every submission a route touches comes through
:func:`visible_submission`, which answers 404 for another guarantor's submission exactly as for one
that does not exist, so that a guarantor cannot even learn which ids are taken.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from filings.confirmation import confirm_submission
from store import portal as store_portal
from store import repository as repo
from store.models import Submission, SubmissionState
from web.auth import Principal
from web.context import Portal
from web.refusals import Refused, not_found


def visible_submission(session: Session, principal: Principal, submission_id: int) -> Submission:
    submission = repo.get_submission(session, submission_id)
    if submission is None or not principal.may_see(submission.institution_id):
        raise not_found("no such submission")
    return submission


def visible_submissions(
    session: Session, principal: Principal, *, period: str | None = None, state: str | None = None,
    institution_id: str | None = None,
) -> list[Submission]:
    """Newest first. A guarantor's list is its own, whatever filter it asks for; a bank has none (403)."""
    if principal.is_bank:
        raise Refused(403, "forbidden", "a bank token reads its lending at /api/bank, not the guarantors' filings")
    if principal.is_guarantor:
        if institution_id is not None and institution_id != principal.institution_id:
            return []
        institution_id = principal.institution_id
    found = repo.list_submissions(session, period=period, institution_id=institution_id, state=state)
    return sorted(found, key=lambda s: (s.received_at, s.id), reverse=True)


@dataclass(frozen=True)
class Confirmed:
    submission: Submission
    recorded: int
    status: store_portal.WarningStatus


def confirm_warnings(
    portal: Portal, principal: Principal, submission_id: int, *, finding_ids: Iterable[int] = (),
    rule_ids: Iterable[str] = (), justification: str,
) -> Confirmed:
    """Record the guarantor's justifications; once every warning is confirmed, accept the filing
    (``filings.confirmation.confirm_submission``). Acceptance makes it the filing of record: the accepted
    submission with the highest sequence, so an earlier accepted one is replaced only now."""
    with portal.session() as session:
        submission = visible_submission(session, principal, submission_id)
        if not principal.is_guarantor:
            raise Refused(403, "forbidden", "only the guarantor confirms its own warnings")
        if submission.state != SubmissionState.NEEDS_CONFIRMATION:
            raise Refused(409, "not_awaiting_confirmation",
                          f"submission {submission.id} is {submission.state}, not waiting for confirmation")
        try:
            made = store_portal.record_confirmations(
                session, submission.id, confirmed_by=principal.token_id, justification=justification,
                finding_ids=finding_ids, rule_ids=rule_ids,
            )
        except store_portal.ConfirmationError as exc:
            raise Refused(422, "invalid_confirmation", str(exc)) from None
        status = store_portal.warning_status(session, submission.id)
        if status.outstanding == 0:
            submission = confirm_submission(session, submission.id)
    return Confirmed(submission, len(made), status)
