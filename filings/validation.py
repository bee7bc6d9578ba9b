"""Validating a submission: the one function every door calls (the Dagster asset, triage, the portal's
inline mode, ``danbao run``).

It reads the filed bytes, takes the registry as it is now and BIZ-010's baseline (the guarantor's
previous accepted filing, from the result archive), runs the rule engine once, records the findings
and the new state, and archives the typed result of a filing that passed phases 1–3, so that
datasets, publication and the portal take it from there instead of computing it again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from connectors.archive import FilingArchive, TableBundle
from connectors.archive.results import (
    FINDINGS,
    TEMPLATE_FILES,
    accepted_filing_of,
    indicators_of,
    result_bundle,
)
from connectors.archive.store import VALIDATION
from connectors.intake import IntakeLimits
from filings.intake import load_filing
from store import repository as repo
from store.blobs import BlobStore
from store.models import Finding, Submission, SubmissionState
from store.registry import registry_snapshot
from validations.context import Institution
from validations.engine import CheckResult, FilingStatus, validate

STATE_OF_STATUS = {
    FilingStatus.REJECTED: SubmissionState.REJECTED,
    FilingStatus.NEEDS_CONFIRMATION: SubmissionState.NEEDS_CONFIRMATION,
    FilingStatus.ACCEPTED: SubmissionState.ACCEPTED,
}
FINAL_STATES = frozenset(repo.ACCEPTED_STATES)


def begin_validation(session: Session, submission: Submission) -> bool:
    """Mark ``submission`` as being validated; False when it is already accepted (final)."""
    if submission.state in FINAL_STATES:
        return False
    repo.set_state(session, submission, SubmissionState.VALIDATING)
    return True


def record_result(session: Session, submission: Submission, result: CheckResult) -> Submission:
    """Save the findings and move the submission to rejected, needs_confirmation or accepted.

    Acceptance is final: an accepted submission is left as it is. Validating a rejected or unconfirmed
    submission again (after a registry correction) replaces its findings, which are derived data; the
    filed bytes are untouched.
    """
    if submission.state in FINAL_STATES:
        return submission
    if submission.state != SubmissionState.VALIDATING:
        repo.set_state(session, submission, SubmissionState.VALIDATING)
    session.execute(delete(Finding).where(Finding.submission_id == submission.id))
    repo.save_findings(session, submission.id, result.findings)
    version = result.template_version if result.template_version and len(result.template_version) <= 16 else None
    return repo.set_state(session, submission, STATE_OF_STATUS[result.status], result.counts(),
                          template_version=version)


Transaction = Callable[[], AbstractContextManager[Session]]


@dataclass(frozen=True)
class Validated:
    """What validating a submission did: its state now, the engine's result, and the result as archived
    (every validation is archived, rejected ones too: their findings are what the guarantor is told)."""

    submission_id: int
    institution_id: str
    period: str
    sequence: int
    state: SubmissionState
    result: CheckResult
    bundle: TableBundle  # the result as archived (``bundle.archived`` is its version)
    recomputed: bool = True  # False: the submission was already accepted; its archived result was read


def validate_submission(
    transaction: Transaction,
    blobs: BlobStore,
    archive: FilingArchive,
    submission_id: int,
    *,
    now: dt.datetime | None = None,
    limits: IntakeLimits | None = None,
    registry: Mapping[str, Institution] | None = None,
) -> Validated:
    """Validate one submission: the only way any door does it.

    Three short transactions (claim and read the registry and baseline; nothing held while the rules
    run; record), so that the store is never locked while a large filing is checked. The typed result
    of a filing that passed phases 1–3 is archived before the state is recorded, so an accepted
    submission always has it. An accepted submission is final: it is not validated again, and its
    archived result is returned.
    """
    with transaction() as session:
        submission = _submission(session, submission_id)
        who = _who(submission)
        if submission.state in FINAL_STATES:
            archived = archive.validation(submission.period, submission.institution_id, submission.sequence)
            if archived is not None:
                return _from_archive(who, submission.state, archived)
        begin_validation(session, submission)
        snapshot = dict(registry) if registry is not None else registry_snapshot(session)
        previous = repo.previous_accepted(session, submission.institution_id, submission.period)
        baseline = None if previous is None else (previous.period, previous.sequence)
    try:
        filing = load_filing(blobs, submission, limits)
        previous_guarantees = None
        if baseline is not None:  # BIZ-010 compares with the guarantor's last accepted filing
            bundle = archive.validation(baseline[0], who["institution_id"], baseline[1], tables=["guarantees"])
            previous_guarantees = None if bundle is None else bundle.tables.get("guarantees")
        result = validate(filing, snapshot, now=now, previous_guarantees=previous_guarantees)
        bundle = result_bundle(result, {**who, "previous_accepted": None if baseline is None else
                                        f"{baseline[0]}#{baseline[1]}"})
        bundle.archived = archive.write(archive.partition(VALIDATION, who["period"], who["institution_id"]),
                                        bundle).number
    except Exception:
        with transaction() as session:  # give it back: the next planning round validates it again
            submission = _submission(session, submission_id)
            if submission.state == SubmissionState.VALIDATING:
                repo.set_state(session, submission, SubmissionState.RECEIVED)
        raise
    with transaction() as session:
        submission = _submission(session, submission_id)
        record_result(session, submission, result)
        state = submission.state
        if state != SubmissionState.ACCEPTED:  # nothing more until a confirmation or a resubmission
            submission.planned_at = None
    return Validated(submission_id, who["institution_id"], who["period"], who["sequence"], state, result, bundle)


def _submission(session: Session, submission_id: int) -> Submission:
    submission = repo.get_submission(session, submission_id)
    if submission is None:
        raise LookupError(f"no submission {submission_id}")
    return submission


def _who(submission: Submission) -> dict[str, Any]:
    return {"submission_id": submission.id, "institution_id": submission.institution_id,
            "period": submission.period, "sequence": submission.sequence, "source": str(submission.source)}


def _from_archive(who: dict[str, Any], state: SubmissionState, bundle: TableBundle) -> Validated:
    meta = bundle.meta
    indicators = indicators_of(bundle)
    phase4 = None
    if meta.get("grade") is not None and indicators is not None:
        phase4 = accepted_filing_of(bundle).outcome
    result = CheckResult(
        institution_id=who["institution_id"], period=who["period"], template_version=meta.get("template_version"),
        status=FilingStatus(meta["status"]), findings=bundle.tables[FINDINGS], phases_run=list(meta["phases_run"]),
        tables={n: bundle.tables[n] for n in TEMPLATE_FILES if n in bundle.tables},
        institution=Institution(**meta["institution"]) if meta.get("institution") else None, phase4=phase4)
    return Validated(who["submission_id"], who["institution_id"], who["period"], who["sequence"], state, result,
                     bundle, recomputed=False)
