"""What the pipeline asks of the store, as plain functions over a ``Session``.

The functions flush but never commit: the caller owns the transaction, so that, for instance,
recording a submission's state and its findings succeed or fail together.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Select, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

# re-exported: the registry's form is the template's business (schemas/registry.py)
from schemas.registry import OPTIONAL_REGISTRY_COLUMNS as OPTIONAL_REGISTRY_COLUMNS
from schemas.registry import REGISTRY_COLUMNS as REGISTRY_COLUMNS
from schemas.registry import load_registry_csv as load_registry_csv
from schemas.registry import normalise_institution
from store.models import (
    Finding,
    Institution,
    InstitutionStatus,
    LateFiling,
    Submission,
    SubmissionSource,
    SubmissionState,
    utcnow,
)

S = SubmissionState

#: States in which a submission counts as the guarantor's filing for its period.
ACCEPTED_STATES: tuple[SubmissionState, ...] = (S.ACCEPTED, S.PUBLISHED)

#: Which state may follow which. Acceptance is final (published data derive from it); a rejected or
#: unconfirmed submission may be validated again, e.g. after a registry correction.
ALLOWED_TRANSITIONS: dict[SubmissionState, frozenset[SubmissionState]] = {
    S.RECEIVED: frozenset({S.VALIDATING, S.REJECTED, S.NEEDS_CONFIRMATION, S.ACCEPTED}),
    S.VALIDATING: frozenset({S.RECEIVED, S.REJECTED, S.NEEDS_CONFIRMATION, S.ACCEPTED}),
    S.NEEDS_CONFIRMATION: frozenset({S.VALIDATING, S.ACCEPTED, S.REJECTED}),
    S.REJECTED: frozenset({S.VALIDATING}),
    S.ACCEPTED: frozenset({S.PUBLISHED}),
    S.PUBLISHED: frozenset(),
}

FINDING_COLUMNS = ("rule_id", "severity", "file", "row", "column", "value", "message_zh", "message_en")
FINDINGS_CHUNK_ROWS = 10_000

# Attempts at numbering a submission before giving up; each failed attempt means another
# transaction took a number, so this bounds the number of truly simultaneous resubmissions.
_SEQUENCE_ATTEMPTS = 16

_PERIOD = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
_SHA256 = re.compile(r"[0-9a-f]{64}")
class InvalidTransitionError(ValueError):
    """A state change that ``ALLOWED_TRANSITIONS`` does not allow."""


@dataclass(frozen=True)
class UpsertResult:
    inserted: int
    updated: int
    unchanged: int


# -- registry -------------------------------------------------------------------------------------


def upsert_institutions(session: Session, rows: Iterable[Mapping[str, Any]]) -> UpsertResult:
    """Insert new registry rows and update changed ones (``updated_at`` moves only on a change).

    A row without a ``pull_url`` key leaves the stored pull URL as it is. All rows are checked before
    anything is written.
    """
    checked: dict[str, dict[str, Any]] = {}
    for number, record in enumerate(rows, start=1):
        row = normalise_institution(record, f"registry row {number}")
        if row["institution_id"] in checked:
            raise ValueError(f"registry row {number}: {row['institution_id']} appears twice")
        checked[row["institution_id"]] = row
    existing = {i.institution_id: i for i in session.scalars(select(Institution))}
    now = utcnow()
    inserted = updated = unchanged = 0
    for institution_id, row in checked.items():
        current = existing.get(institution_id)
        if current is None:
            session.add(Institution(**{"pull_url": None, **row}, updated_at=now))
            inserted += 1
            continue
        changed = False
        for name, value in row.items():
            if getattr(current, name) != value:
                setattr(current, name, value)
                changed = True
        if changed:
            current.updated_at = now
            updated += 1
        else:
            unchanged += 1
    session.flush()
    return UpsertResult(inserted, updated, unchanged)


def get_institution(session: Session, institution_id: str) -> Institution | None:
    return session.get(Institution, institution_id)


def list_institutions(session: Session, status: InstitutionStatus | str | None = None) -> list[Institution]:
    query = select(Institution).order_by(Institution.institution_id)
    if status is not None:
        query = query.where(Institution.status == InstitutionStatus(status))
    return list(session.scalars(query))


# -- submissions ----------------------------------------------------------------------------------


def record_submission(
    session: Session,
    *,
    institution_id: str,
    period: str,
    package_sha256: str,
    package_bytes: int,
    blob_key: str,
    source: SubmissionSource | str,
    received_at: dt.datetime | None = None,
) -> Submission:
    """Record a package as received, numbered after the guarantor's earlier packages for ``period``.

    The guarantor need not be in the registry (see ``Submission``). Numbering is safe under
    concurrency: on PostgreSQL a transaction-scoped advisory lock per (guarantor, period) serialises
    numbering (a row lock on the institution would not do: it may not exist); on SQLite every
    transaction holds the write lock from its start (``store.db.make_engine``). Should two
    transactions still collide (another engine, another isolation level), the unique constraint
    catches it and the insert is retried in a SAVEPOINT, leaving the caller's transaction intact.
    Retrying needs READ COMMITTED (PostgreSQL's default) to see the winner's row.
    """
    _check_period(period)
    if not institution_id or len(institution_id) > 64:
        raise ValueError(f"institution_id must be 1 to 64 characters: {institution_id!r}")
    sha = package_sha256.lower()
    if not _SHA256.fullmatch(sha):
        raise ValueError(f"not a SHA-256 hex digest: {package_sha256!r}")
    if package_bytes < 0:
        raise ValueError(f"negative package size: {package_bytes}")
    kind = SubmissionSource(source)
    received = _aware(received_at) if received_at is not None else utcnow()
    for attempt in range(1, _SEQUENCE_ATTEMPTS + 1):
        try:
            with session.begin_nested():
                _lock_numbering(session, institution_id, period)
                last = session.scalar(
                    select(func.max(Submission.sequence)).where(
                        Submission.institution_id == institution_id, Submission.period == period
                    )
                )
                submission = Submission(
                    institution_id=institution_id,
                    period=period,
                    sequence=(last or 0) + 1,
                    received_at=received,
                    source=kind,
                    package_sha256=sha,
                    package_bytes=package_bytes,
                    blob_key=blob_key,
                    state=S.RECEIVED,
                    state_changed_at=received,
                )
                session.add(submission)
            return submission
        except IntegrityError:
            if attempt == _SEQUENCE_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def _lock_numbering(session: Session, institution_id: str, period: str) -> None:
    if session.get_bind().dialect.name == "postgresql":
        key = f"danbao.submissions/{institution_id}/{period}"
        session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))


def find_submission_by_sha(
    session: Session, institution_id: str, period: str, sha256: str
) -> Submission | None:
    """The latest submission of exactly these bytes for the guarantor and period, if any."""
    return session.scalars(
        select(Submission)
        .where(
            Submission.institution_id == institution_id,
            Submission.period == period,
            Submission.package_sha256 == sha256.lower(),
        )
        .order_by(Submission.sequence.desc())
        .limit(1)
    ).first()


def get_submission(session: Session, submission_id: int) -> Submission | None:
    return session.get(Submission, submission_id)


def set_state(
    session: Session,
    submission: Submission,
    state: SubmissionState | str,
    finding_counts: Mapping[str, int] | None = None,
    *,
    template_version: str | None = None,
) -> Submission:
    """Move ``submission`` to ``state`` (raising ``InvalidTransitionError`` if the move is not allowed;
    staying in the same state is allowed). Sets ``accepted_at`` on acceptance; ``finding_counts``
    and ``template_version``, when given, are recorded too."""
    new = SubmissionState(state)
    old = submission.state
    if new != old and new not in ALLOWED_TRANSITIONS[old]:
        raise InvalidTransitionError(f"submission {submission.id}: {old} → {new} is not allowed")
    now = utcnow()
    if new != old:
        submission.state = new
        submission.state_changed_at = now
    if new == S.ACCEPTED and submission.accepted_at is None:
        submission.accepted_at = now
    if finding_counts is not None:
        submission.finding_counts = {str(k): int(v) for k, v in finding_counts.items()}
    if template_version is not None:
        submission.template_version = template_version
    session.flush()
    return submission


def list_submissions(
    session: Session,
    period: str | None = None,
    institution_id: str | None = None,
    state: SubmissionState | str | None = None,
) -> list[Submission]:
    query = select(Submission).order_by(Submission.period, Submission.institution_id, Submission.sequence)
    if period is not None:
        query = query.where(Submission.period == _check_period(period))
    if institution_id is not None:
        query = query.where(Submission.institution_id == institution_id)
    if state is not None:
        query = query.where(Submission.state == SubmissionState(state))
    return list(session.scalars(query))


def last_accepted(session: Session, institution_id: str, period: str) -> Submission | None:
    """The guarantor's filing of record for ``period``: its accepted (or published) submission
    with the highest sequence."""
    return session.scalars(
        _accepted(institution_id)
        .where(Submission.period == _check_period(period))
        .order_by(Submission.sequence.desc())
        .limit(1)
    ).first()


def previous_accepted(session: Session, institution_id: str, before_period: str) -> Submission | None:
    """The guarantor's filing of record for the latest period before ``before_period`` that has one
    (the baseline for month-on-month checks and the incremental credit feed)."""
    return session.scalars(
        _accepted(institution_id)
        .where(Submission.period < _check_period(before_period))  # YYYY-MM sorts as text
        .order_by(Submission.period.desc(), Submission.sequence.desc())
        .limit(1)
    ).first()


def _accepted(institution_id: str) -> Select[tuple[Submission]]:
    return select(Submission).where(
        Submission.institution_id == institution_id, Submission.state.in_(ACCEPTED_STATES)
    )


# -- findings -------------------------------------------------------------------------------------


def save_findings(session: Session, submission_id: int, findings: pa.Table) -> int:
    """Insert a submission's findings (columns as ``validations.findings.FINDINGS_SCHEMA``; others
    are ignored) in chunks of ``FINDINGS_CHUNK_ROWS``, so that a million findings never become a
    million ORM objects or one giant statement. Returns the number of rows inserted."""
    missing = [name for name in FINDING_COLUMNS if name not in findings.column_names]
    if missing:
        raise ValueError(f"findings table lacks column(s) {', '.join(missing)}")
    table = findings.select(list(FINDING_COLUMNS))
    if not pa.types.is_integer(table.schema.field("row").type):
        table = table.set_column(
            FINDING_COLUMNS.index("row"), "row", pc.cast(table["row"], pa.int64(), safe=True)
        )
    statement = insert(Finding.__table__)
    for offset in range(0, table.num_rows, FINDINGS_CHUNK_ROWS):
        rows = table.slice(offset, FINDINGS_CHUNK_ROWS).to_pylist()
        for row in rows:
            row["submission_id"] = submission_id
        session.execute(statement, rows)
    return table.num_rows


def load_findings(
    session: Session,
    submission_id: int,
    rule_id: str | None = None,
    severity: str | None = None,
    limit: int | None = None,
    offset: int = 0,
    *,
    with_id: bool = False,
) -> list[dict[str, Any]]:
    """A submission's findings as dicts with ``FINDING_COLUMNS`` (and ``id``), in the order they were saved."""
    columns = Finding.__table__.c
    names = ("id", *FINDING_COLUMNS) if with_id else FINDING_COLUMNS
    query = _findings_where(
        select(*(columns[name] for name in names)), submission_id, rule_id, severity
    ).order_by(columns.id)
    if offset:
        query = query.offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return [dict(row._mapping) for row in session.execute(query)]


def count_findings(
    session: Session, submission_id: int, rule_id: str | None = None, severity: str | None = None
) -> int:
    """How many findings :func:`load_findings` would return without ``limit`` (for paging)."""
    query = _findings_where(
        select(func.count()).select_from(Finding.__table__), submission_id, rule_id, severity
    )
    return session.scalar(query) or 0


def _findings_where(
    query: Select[Any], submission_id: int, rule_id: str | None, severity: str | None
) -> Select[Any]:
    columns = Finding.__table__.c
    query = query.where(columns.submission_id == submission_id)
    if rule_id is not None:
        query = query.where(columns.rule_id == rule_id)
    if severity is not None:
        query = query.where(columns.severity == str(severity))
    return query


# -- late filings ---------------------------------------------------------------------------------


def record_late_filing(session: Session, institution_id: str, period: str, deadline: dt.date) -> LateFiling:
    """Record that a registered guarantor missed ``deadline`` for ``period``. Idempotent: recording it
    again returns the first record unchanged (a late filing is a fact, not overwritten)."""
    _check_period(period)
    existing = _late_filing(session, institution_id, period)
    if existing is not None:
        return existing
    try:
        with session.begin_nested():
            late = LateFiling(institution_id=institution_id, period=period, deadline=deadline)
            session.add(late)
        return late
    except IntegrityError:
        # Either another transaction recorded it first, or the guarantor is not in the registry.
        existing = _late_filing(session, institution_id, period)
        if existing is None:
            raise
        return existing


def _late_filing(session: Session, institution_id: str, period: str) -> LateFiling | None:
    return session.scalars(
        select(LateFiling).where(LateFiling.institution_id == institution_id, LateFiling.period == period)
    ).first()


def list_late_filings(session: Session, period: str) -> list[LateFiling]:
    return list(
        session.scalars(
            select(LateFiling)
            .where(LateFiling.period == _check_period(period))
            .order_by(LateFiling.institution_id)
        )
    )


# -- helpers --------------------------------------------------------------------------------------


def _check_period(period: str) -> str:
    if not isinstance(period, str) or not _PERIOD.fullmatch(period):
        raise ValueError(f"not a period (YYYY-MM): {period!r}")
    return period


def _aware(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: pass a timezone-aware one")
    return value.astimezone(dt.UTC)
