"""Validation assets, per filing partition: the rule engine's result with its phases as blocking checks,
and the accepted filing that everything downstream reads.

``validation_result`` always materializes (its findings are what the guarantor is told). Its three
checks, one per phase of rules.md, are blocking: a rejected filing fails at least one, so
``accepted_filing`` and anything downstream of it does not materialize from it. A filing that passes
every phase but has warnings is ``needs_confirmation``: ``accepted_filing`` then yields nothing and the
partition's previous accepted version stays the one downstream assets read, until the guarantor's
confirmation accepts it.
"""


from collections.abc import Iterator

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    MetadataValue,
    Output,
    asset,
)

from connectors.archive import TableBundle
from filings.record import filing_of_record
from filings.validation import validate_submission
from pipelines.io_managers import WRITE_ONCE
from pipelines.partitions import filing_partitions
from pipelines.resources import ArchiveResource, StoreResource
from pipelines.validation.checks import PHASES, phase_outcomes
from store import repository as repo
from validations.engine import CheckResult

IO_MANAGER = "filing_io_manager"

@asset(
    partitions_def=filing_partitions,
    group_name="validation",
    io_manager_key=IO_MANAGER,
    kinds={"parquet"},
    check_specs=[
        AssetCheckSpec(name, asset="validation_result", blocking=True, description=text) for _, name, text in PHASES
    ],
    description=(
        "The rule engine's verdict on the submission (rejected / needs_confirmation / accepted): its findings and, "
        "unless rejected, the typed tables, indicators, grade with measures and subsidies (phase 4, computed once "
        "here). Recorded in the store with the submission's new state; archived by the application."
    ),
)
def validation_result(
    context: AssetExecutionContext, received_package: TableBundle, store: StoreResource, archive: ArchiveResource
) -> Iterator[Output[TableBundle] | AssetCheckResult]:
    submission_id = int(received_package.meta["submission_id"])
    validated = validate_submission(store.session, store.blobs(), archive.archive(), submission_id)
    result, bundle = validated.result, validated.bundle
    if not validated.recomputed:
        context.log.info(f"submission {submission_id} is already {validated.state}; its archived result is final")
    counts = result.counts()
    yield Output(
        bundle,
        metadata={
            "status": str(result.status),
            "state": str(validated.state),
            "sequence": validated.sequence,
            "errors": counts["error"],
            "warnings": counts["warning"],
            "phases_run": MetadataValue.json(result.phases_run),
            "grade": result.grade or "",
            "previous_accepted": bundle.meta.get("previous_accepted") or "",
            "rows": MetadataValue.json({n: t.num_rows for n, t in result.tables.items()}),
        },
    )
    yield from phase_checks(result)


def phase_checks(result: CheckResult) -> Iterator[AssetCheckResult]:
    """One check per phase: passed when the phase ran and found no error (warnings are metadata)."""
    for name, passed, metadata in phase_outcomes(result):
        yield AssetCheckResult(check_name=name, asset_key="validation_result", passed=passed,
                               severity=AssetCheckSeverity.ERROR, metadata=metadata)


@asset(
    partitions_def=filing_partitions,
    group_name="validation",
    io_manager_key=IO_MANAGER,
    kinds={"parquet"},
    output_required=False,
    metadata={WRITE_ONCE: True},
    description=(
        "The typed tables of the guarantor's accepted filing for the period, one write-once version per "
        "accepted submission; the latest is the filing of record. Materializes only when every phase check "
        "passed and the submission is accepted: this is what phase-4 and publication assets read."
    ),
)
def accepted_filing(
    context: AssetExecutionContext, validation_result: TableBundle, store: StoreResource
) -> Iterator[Output[TableBundle]]:
    meta = validation_result.meta
    with store.session() as session:
        submission = repo.get_submission(session, int(meta["submission_id"]))
        assert submission is not None
        record = filing_of_record(session, submission.institution_id, submission.period)
        state, accepted_at = submission.state, submission.accepted_at
    if state not in repo.ACCEPTED_STATES:
        kept = f"accepted submission #{record.sequence} stays the filing of record" if record else "no accepted filing yet"
        context.log.info(f"submission #{submission.sequence} is {state}, not accepted: {kept}")
        return
    yield Output(
        TableBundle({**meta, "accepted_at": accepted_at.isoformat() if accepted_at else None},
                    dict(validation_result.tables)),
        metadata={
            "sequence": submission.sequence,
            "filing_of_record": record is not None and record.id == submission.id,
            "rows": MetadataValue.json({n: t.num_rows for n, t in validation_result.tables.items()}),
        },
    )


ASSETS = [validation_result, accepted_filing]
