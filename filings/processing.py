"""One submission the whole way: validate it, and if it is accepted, archive the accepted filing, publish
its datasets and queue its deliveries. What the per-filing Dagster assets do one step at a time, done
in one call, so that a batch of filings costs one run.

The typed result travels in memory from the validation to the datasets and the outbox: phase 4 runs
once and nothing is read back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from connectors.archive import ArchiveExistsError, FilingArchive, TableBundle
from connectors.archive.results import accepted_filing_of
from connectors.archive.store import ACCEPTED
from connectors.datasets import DatasetStore
from filings.datasets import publish_datasets
from filings.lifecycle import datasets_published, failed_attempt
from filings.publication.enqueue import FilingOutcome, enqueue_filing
from filings.validation import Transaction, Validated, validate_submission
from store import repository as repo
from store.blobs import BlobStore


@dataclass
class Processed:
    """What happened to one submission; ``stage`` names the step that failed, when one did."""

    submission_id: int
    validated: Validated | None = None
    accepted: bool = False
    accepted_version: int | None = None
    dataset_versions: dict[str, int] = field(default_factory=dict)
    outbox: FilingOutcome | None = None
    stage: str | None = None
    error: str | None = None


def accept(archive: FilingArchive, validated: Validated, accepted_at) -> tuple[TableBundle, int]:
    """Archive the accepted filing (version = its sequence, write-once) from the validation's bundle."""
    meta = {**validated.bundle.meta, "accepted_at": accepted_at.isoformat() if accepted_at else None}
    bundle = TableBundle(meta, dict(validated.bundle.tables))
    partition = archive.partition(ACCEPTED, validated.period, validated.institution_id)
    try:
        number = archive.write(partition, bundle, number=validated.sequence).number
    except ArchiveExistsError:
        number = validated.sequence
    bundle.archived = number
    return bundle, number


def process_submission(transaction: Transaction, blobs: BlobStore, archive: FilingArchive, datasets: DatasetStore,
                       pseudonym_key: bytes, submission_id: int) -> Processed:
    """Validate, then (if accepted) accept, publish and queue; never raises for one filing's trouble."""
    done = Processed(submission_id)
    try:
        done.validated = validated = validate_submission(transaction, blobs, archive, submission_id)
    except Exception as exc:  # validate_submission gave the submission back (received): planned again
        done.stage, done.error = "validation", f"{type(exc).__name__}: {exc}"
        _count_failure(transaction, submission_id)
        return done
    if validated.state not in repo.ACCEPTED_STATES:
        return done
    stage = "accepted_filing"
    try:
        with transaction() as session:
            submission = repo.get_submission(session, submission_id)
            assert submission is not None
            accepted_at, published = submission.accepted_at, submission.datasets_published_at is not None
        bundle, done.accepted_version = accept(archive, validated, accepted_at)
        done.accepted = True
        filing = accepted_filing_of(bundle, accepted_at)
        if not published:
            stage = "filing_results"
            done.dataset_versions = publish_datasets(datasets, pseudonym_key, filing)
            stage = "publication_outbox"
            with transaction() as session:
                done.outbox = enqueue_filing(session, blobs, filing)
                datasets_published(session, submission_id)
    except Exception as exc:  # planned again at once, until the attempts run out
        done.stage, done.error = stage, f"{type(exc).__name__}: {exc}"
        _count_failure(transaction, submission_id)
    return done


def _count_failure(transaction: Transaction, submission_id: int) -> None:
    try:
        with transaction() as session:
            failed_attempt(session, submission_id)
    except Exception:  # the store itself is failing: the claim's lease brings it back
        pass


