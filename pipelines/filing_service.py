"""The filing workflow as plain functions: receive, validate, record, detect late filings.

One rule engine, three doors: the Dagster assets, the ``danbao`` commands and the web portal all call
these functions; none of them imports Dagster. Like ``store.repository`` they flush but never commit:
the caller owns the transaction.

Order matters and is the point of this module: a package's bytes go into the blob store first (byte
for byte, content-addressed), then the submission is recorded with its sequence number, and only then
does anything read it. A resubmission is the next sequence number; the filing of record stays the
accepted submission with the highest sequence, so a new package replaces the accepted one only once it
is itself accepted.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from connectors.intake import IntakeLimits, read_package, read_package_bytes
from connectors.intake.receive import folder_sha256, identify, manifest_from_folder, manifest_from_zip
from store import repository as repo
from store.blobs import BlobStore
from store.models import Finding, Submission, SubmissionSource, SubmissionState
from store.registry import registry_snapshot as registry_snapshot  # re-exported for the doors
from validations.context import BEIJING, Institution, Period, now_beijing
from validations.engine import CheckResult, FilingStatus, validate
from validations.filing import RawFiling

STATE_OF_STATUS = {
    FilingStatus.REJECTED: SubmissionState.REJECTED,
    FilingStatus.NEEDS_CONFIRMATION: SubmissionState.NEEDS_CONFIRMATION,
    FilingStatus.ACCEPTED: SubmissionState.ACCEPTED,
}
FINAL_STATES = frozenset(repo.ACCEPTED_STATES)


@dataclass(frozen=True)
class Receipt:
    """What receiving a package did. ``submission`` is None when the package could not be attributed
    to a guarantor and period (no readable manifest and no hint): its bytes are kept all the same."""

    blob_key: str
    package_sha256: str
    package_bytes: int
    institution_id: str | None
    period: str | None
    submission: Submission | None
    created: bool  # False: these bytes were already filed for this guarantor and period
    note: str | None = None


class DeadlineNotPassedError(ValueError):
    """Late filings are only known once the deadline has passed."""


# -- receiving ------------------------------------------------------------------------------------


def receive_package(
    session: Session,
    blobs: BlobStore,
    package: bytes | str | Path,
    source: SubmissionSource | str,
    *,
    institution_id: str | None = None,
    period: str | None = None,
    received_at: dt.datetime | None = None,
) -> Receipt:
    """Keep the package's bytes, then record it as a submission (next sequence number).

    ``package`` is the bytes of a ZIP (upload, pull), or a path to a ZIP or a package folder (landing
    folder, CLI). ``institution_id``/``period`` are what the door knows (the endpoint's guarantor, the
    period pulled, the drop folder's name); the manifest's values win where usable. The same bytes
    filed again for the same guarantor and period return the existing submission (``created=False``).
    """
    if isinstance(package, (bytes, bytearray, memoryview)):
        data = bytes(package)
        key = blobs.put(data)
        sha, size, manifest = key.rsplit("/", 1)[1], len(data), manifest_from_zip(data)
    else:
        path = Path(package)
        if path.is_dir():
            try:
                key = blobs.put_folder(path)
            except ValueError as exc:  # a symbolic link inside: filing it could copy bytes from elsewhere
                return Receipt("", "", 0, institution_id, period, None, False, f"refused: {exc}")
            sha = folder_sha256(path)
            size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
            manifest = manifest_from_folder(path)
        else:
            key = blobs.put_file(path)
            sha, size, manifest = key.rsplit("/", 1)[1], path.stat().st_size, manifest_from_zip(path)
    who = identify(manifest, institution_id=institution_id, period=period)
    if not who.complete:
        note = "no readable manifest naming the guarantor and period, and no hint from where it came"
        return Receipt(key, sha, size, who.institution_id, who.period, None, False, note)
    assert who.institution_id is not None and who.period is not None
    existing = repo.find_submission_by_sha(session, who.institution_id, who.period, sha)
    if existing is not None:
        return Receipt(key, sha, size, who.institution_id, who.period, existing, False, "already received")
    submission = repo.record_submission(
        session,
        institution_id=who.institution_id,
        period=who.period,
        package_sha256=sha,
        package_bytes=size,
        blob_key=key,
        source=source,
        received_at=received_at,
    )
    return Receipt(key, sha, size, who.institution_id, who.period, submission, True)


def load_registry(session: Session, csv_path: str | Path) -> repo.UpsertResult:
    """Load the regulator's registry CSV into the store (insert new guarantors, update changed ones)."""
    from schemas.registry import load_registry_csv

    return repo.upsert_institutions(session, load_registry_csv(csv_path))


# -- validating -----------------------------------------------------------------------------------


def load_filing(blobs: BlobStore, submission: Submission, limits: IntakeLimits | None = None) -> RawFiling:
    """Read a submission's package from the blob store, exactly as filed."""
    limits = limits or IntakeLimits.from_env()
    if blobs.is_folder(submission.blob_key):
        with tempfile.TemporaryDirectory(prefix="danbao-package-") as tmp:
            return read_package(blobs.restore_folder(submission.blob_key, Path(tmp) / "package"), limits)
    return read_package_bytes(blobs.get(submission.blob_key), limits)


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


def validate_submission(
    session: Session,
    blobs: BlobStore,
    submission_id: int,
    registry: dict[str, Institution] | None = None,
    now: dt.datetime | None = None,
    *,
    previous_guarantees: pa.Table | None = None,
    limits: IntakeLimits | None = None,
) -> CheckResult:
    """Read, check and record one submission in one go (the portal's and the triage job's door; the
    Dagster assets run the same steps one asset at a time)."""
    submission = repo.get_submission(session, submission_id)
    if submission is None:
        raise LookupError(f"no submission {submission_id}")
    registry = registry if registry is not None else registry_snapshot(session)
    begin_validation(session, submission)
    result = validate(load_filing(blobs, submission, limits), registry, now=now,
                      previous_guarantees=previous_guarantees)
    record_result(session, submission, result)
    return result


def confirm_submission(session: Session, submission_id: int) -> Submission:
    """Accept a filing whose warnings the guarantor has confirmed (the portal's confirmation step)."""
    submission = repo.get_submission(session, submission_id)
    if submission is None:
        raise LookupError(f"no submission {submission_id}")
    return repo.set_state(session, submission, SubmissionState.ACCEPTED)


def filing_of_record(session: Session, institution_id: str, period: str) -> Submission | None:
    """The submission downstream assets use for (guarantor, period): the accepted one with the
    highest sequence, whatever came after it."""
    return repo.last_accepted(session, institution_id, period)


# -- late filings ---------------------------------------------------------------------------------


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
