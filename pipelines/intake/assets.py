"""Intake asset, per filing partition (period × guarantor): the submission a run works on."""


from dagster import AssetExecutionContext, Failure, Output, asset

from connectors.archive import TableBundle
from pipelines.partitions import SUBMISSION_TAG, filing_partitions, split_key
from pipelines.resources import StoreResource
from store import repository as repo

IO_MANAGER = "filing_io_manager"


@asset(
    partitions_def=filing_partitions,
    group_name="intake",
    io_manager_key=IO_MANAGER,
    description=(
        "The package this run validates: a submission recorded (with its sequence number, bytes in the "
        "blob store) by the intake sensor, the pull job or the portal. The run's danbao/submission_id tag "
        "names it; without the tag (a manual run), the partition's latest submission."
    ),
)
def received_package(context: AssetExecutionContext, store: StoreResource) -> Output[TableBundle]:
    period, guarantor = split_key(context.partition_key)
    tag = context.run.tags.get(SUBMISSION_TAG)
    with store.session() as session:
        if tag is not None:
            submission = repo.get_submission(session, int(tag))
        else:
            submissions = repo.list_submissions(session, period=period, institution_id=guarantor)
            submission = submissions[-1] if submissions else None
    if submission is None:
        which = f"submission {tag}" if tag is not None else "submission"
        raise Failure(f"no {which} for {guarantor} {period} in the store")
    if (submission.institution_id, submission.period) != (guarantor, period):
        raise Failure(
            f"submission {submission.id} is for {submission.institution_id} {submission.period}, "
            f"not this partition ({guarantor} {period})"
        )
    if not store.blobs().exists(submission.blob_key):
        raise Failure(f"the bytes of submission {submission.id} ({submission.blob_key}) are not in the blob store")
    meta = {
        "submission_id": submission.id,
        "institution_id": submission.institution_id,
        "period": submission.period,
        "sequence": submission.sequence,
        "source": str(submission.source),
        "package_sha256": submission.package_sha256,
        "package_bytes": submission.package_bytes,
        "blob_key": submission.blob_key,
        "received_at": submission.received_at.isoformat(),
    }
    return Output(
        TableBundle(meta),
        metadata={
            "submission_id": submission.id,
            "sequence": submission.sequence,
            "source": str(submission.source),
            "package_sha256": submission.package_sha256,
            "package_bytes": submission.package_bytes,
            "blob_key": submission.blob_key,
        },
    )


ASSETS = [received_package]
