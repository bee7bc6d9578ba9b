"""The triage job: validate a submission that cannot be a filing partition.

A manifest whose guarantor is not USCC-shaped, or a period outside the partitioned graph (too old, in
the future), still deserves its findings (FMT-001/006 …) in the store; it just has no partition to
materialize. The same call as every other door: ``filings.validation.validate_submission``.
"""


from dagster import Config, MetadataValue, OpExecutionContext, Output, in_process_executor, job, op

from filings.validation import validate_submission
from pipelines.hooks import count_failed_attempt
from pipelines.partitions import JOB_TAG
from pipelines.resources import ArchiveResource, StoreResource


class TriageConfig(Config):
    submission_id: int


@op(name="triage_submission", description="Validate and record one submission outside the partitioned graph.")
def triage_submission(context: OpExecutionContext, config: TriageConfig, store: StoreResource,
                      archive: ArchiveResource) -> Output[str]:
    result = validate_submission(store.session, store.blobs(), archive.archive(), config.submission_id).result
    counts = result.counts()
    context.log.info(f"submission {config.submission_id}: {result.status} ({counts['error']} errors, {counts['warning']} warnings)")
    return Output(
        str(result.status),
        metadata={
            "submission_id": config.submission_id,
            "status": str(result.status),
            "errors": counts["error"],
            "warnings": counts["warning"],
            "rules": MetadataValue.json(sorted(result.findings["rule_id"].unique().to_pylist())),
        },
    )


@job(name="triage_job", executor_def=in_process_executor, tags={JOB_TAG: "triage"}, hooks={count_failed_attempt},
     description="Validate a submission that has no filing partition (garbled guarantor, period outside the graph).")
def triage_job() -> None:
    triage_submission()
