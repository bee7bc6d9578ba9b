"""What publishing needs of one accepted filing, and the two ways to get it.

The Dagster asset already holds the rule engine's result (``from_check_result``); the ``danbao publish``
command starts from the store and checks the filed package again (``from_store``), with the clock set
to the moment the filing was accepted, so the result is the one that was recorded (the engine is
deterministic and its reference data are dated).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from store.blobs import BlobStore
from store.models import Submission
from validations.context import Institution

if TYPE_CHECKING:  # the rule engine and the intake readers load only when a filing is read
    from connectors.intake import IntakeLimits
    from validations.engine import CheckResult
    from validations.filing import RawFiling
    from validations.prudential import GradeResult


class NotPublishableError(ValueError):
    """The filing is not an accepted one with phase-4 results."""


@dataclass(frozen=True)
class FilingForPublication:
    institution: Institution
    period: str
    submission_id: int
    sequence: int
    accepted_at: dt.datetime | None
    template_version: str | None
    guarantees: pa.Table  # the typed template table
    findings: pa.Table  # validations.findings.FINDINGS_SCHEMA
    indicators: dict[str, Any]
    grade: GradeResult  # validations.prudential.GradeResult


def from_check_result(result: CheckResult, submission: Submission) -> FilingForPublication:
    """From the engine's result for ``submission`` (which must be accepted or needs_confirmation
    confirmed: the caller publishes only filings of record)."""
    from validations.engine import FilingStatus
    from validations.prudential import GradeResult
    from validations.prudential import grade as grade_of

    if result.status == FilingStatus.REJECTED or result.institution is None or result.indicators is None:
        raise NotPublishableError(f"submission {submission.id}: a rejected filing is not published")
    graded = result.extras.get("grade")
    if not isinstance(graded, GradeResult):
        graded = grade_of(result.findings)
    return FilingForPublication(
        institution=result.institution,
        period=submission.period,
        submission_id=submission.id,
        sequence=submission.sequence,
        accepted_at=submission.accepted_at,
        template_version=result.template_version,
        guarantees=result.tables["guarantees"],
        findings=result.findings,
        indicators=dict(result.indicators),
        grade=graded,
    )


def from_store(
    blobs: BlobStore,
    submission: Submission,
    registry: Mapping[str, Institution],
    *,
    limits: IntakeLimits | None = None,
) -> FilingForPublication:
    """Check the filed package again, as of its acceptance, and take the result."""
    from validations.engine import validate

    now = submission.accepted_at or submission.state_changed_at
    filing = load_filing(blobs, submission, limits)
    return from_check_result(validate(filing, registry, now=now), submission)


def load_filing(blobs: BlobStore, submission: Submission, limits: IntakeLimits | None = None) -> RawFiling:
    """A submission's package from the blob store, exactly as filed (a folder or a ZIP)."""
    from connectors.intake import IntakeLimits, read_package, read_package_bytes

    limits = limits or IntakeLimits.from_env()
    if blobs.is_folder(submission.blob_key):
        with tempfile.TemporaryDirectory(prefix="danbao-publish-") as tmp:
            return read_package(blobs.restore_folder(submission.blob_key, Path(tmp) / "package"), limits)
    return read_package_bytes(blobs.get(submission.blob_key), limits)


def from_parts(
    institution: Institution,
    submission: Submission,
    *,
    guarantees: pa.Table,
    findings: pa.Table,
    indicators: dict[str, Any],
    template_version: str | None = None,
) -> FilingForPublication:
    """From what the pipeline archives of a validation (the Dagster ``validation_result`` bundle: its
    ``guarantees`` and ``findings`` tables and its ``indicators``); the grade is recomputed from the
    findings with the engine's own function, so it is the one the engine gave."""
    from validations.prudential import grade as grade_of

    return FilingForPublication(
        institution=institution,
        period=submission.period,
        submission_id=submission.id,
        sequence=submission.sequence,
        accepted_at=submission.accepted_at,
        template_version=template_version,
        guarantees=guarantees,
        findings=findings,
        indicators=dict(indicators),
        grade=grade_of(findings),
    )
