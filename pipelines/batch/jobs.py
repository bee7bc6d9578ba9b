"""``filing_batch_job``: one run, one step, a batch of submissions taken the whole way.

A run's fixed cost (process start, code location, plan, storage round trips) is seconds, the work of a
typical filing a fraction of one: so the intake sensor plans submissions in batches
(``DANBAO_BATCH_SIZE``, default 50) and each batch is one run of one step. The step calls
``filings.processing.process_submission`` for each submission (validate, accept, datasets, outbox), and
reports each filing against its own period × guarantor partition of the filing assets: a
materialization of ``validation_result`` with its three phase checks, and, when accepted, of
``accepted_filing``, ``filing_results`` and ``publication_outbox``: at most seven events per filing.
One filing's failure (a rejected package, a bug) never stops the others in its batch.
"""


import os
import socket
from collections import Counter
from typing import Any

from dagster import (
    AssetCheckEvaluation,
    AssetCheckSeverity,
    AssetKey,
    AssetMaterialization,
    Config,
    Failure,
    MetadataValue,
    OpExecutionContext,
    Output,
    in_process_executor,
    job,
    op,
)
from dagster_celery import celery_executor
from pydantic import Field

from connectors.archive import FilingArchive
from connectors.datasets import DatasetStore
from filings.processing import Processed, process_submission
from pipelines.partitions import JOB_TAG, filing_key, partition_periods, partitionable
from pipelines.resources import (
    ArchiveResource,
    DatasetsResource,
    RunSettings,
    SettingsMismatch,
    StoreResource,
    check_run_settings,
)
from pipelines.validation.checks import phase_outcomes
from store.blobs import BlobStore

VALIDATION = AssetKey("validation_result")


class FilingBatchConfig(Config):
    submission_ids: list[int] = Field(description="The submissions this run takes the whole way, in order.")
    settings: RunSettings | None = Field(
        default=None,
        description=("Where the run's data lives, as the planning process resolved it (the intake sensor always "
                     "writes it). Blobs, tables and datasets are taken from here; the worker's store URL and "
                     "pseudonym key must match. Required on the celery job; without it an in-process run uses "
                     "its own environment."))


@op(name="process_filings",
    description="Validate each submission of the batch; take each accepted one on to its datasets and deliveries.")
def process_filings(context: OpExecutionContext, config: FilingBatchConfig, store: StoreResource,
                    archive: ArchiveResource, datasets: DatasetsResource) -> Output[dict[str, Any]]:
    blobs, tables, published, key = _stores(context, config, store, archive, datasets)
    periods = partition_periods()
    outcome: Counter[str] = Counter()
    failures: list[str] = []
    for submission_id in config.submission_ids:
        done = process_submission(store.session, blobs, tables, published, key, submission_id)
        if done.error:
            failures.append(f"{submission_id} ({done.stage}): {done.error}")
            context.log.error(f"submission {submission_id}: {done.stage} failed: {done.error}")
        if done.validated is not None:
            outcome[str(done.validated.state)] += 1
            if partitionable(done.validated.institution_id, done.validated.period, periods):
                for event in filing_events(done):
                    context.log_event(event)
    metadata = {"submissions": len(config.submission_ids), "failures": len(failures),
                "worker": f"{socket.gethostname()}:{os.getpid()}",
                "outcome": MetadataValue.json(dict(outcome)), "errors": MetadataValue.json(failures[:50])}
    return Output({"outcome": dict(outcome), "failures": failures}, metadata=metadata)


def _stores(context: OpExecutionContext, config: FilingBatchConfig, store: StoreResource,
            archive: ArchiveResource, datasets: DatasetsResource) -> tuple[BlobStore, FilingArchive, DatasetStore, bytes]:
    """The blob store, table archive, dataset store and key of this run: from the run's settings when it
    carries them (checked against this process's secrets first), else from this process's resources."""
    key = datasets.key()  # refuses without DANBAO_PSEUDONYM_KEY outside the embedded demo
    expected = config.settings
    if expected is None:
        if context.job_def.name != filing_batch_job.name:
            raise Failure(f"{context.job_def.name} runs on workers: its config must carry `settings` "
                          "(the intake sensor writes them); refusing to use this worker's environment")
        return store.blobs(), archive.archive(), datasets.store(), key
    try:
        check_run_settings(expected, store, key)
    except SettingsMismatch as exc:
        raise Failure(str(exc)) from None
    return (BlobStore(expected.blob_root), FilingArchive(expected.tables_url), DatasetStore(expected.datasets_root),
            key)


def filing_events(done: Processed) -> list[AssetMaterialization | AssetCheckEvaluation]:
    """What one filing of the batch reports against its own partition."""
    validated = done.validated
    assert validated is not None
    result = validated.result
    partition = filing_key(validated.period, validated.institution_id)
    counts = result.counts()
    events: list[AssetMaterialization | AssetCheckEvaluation] = [AssetMaterialization(
        VALIDATION, partition=partition,
        metadata={"submission_id": validated.submission_id, "sequence": validated.sequence,
                  "status": str(result.status), "state": str(validated.state), "errors": counts["error"],
                  "warnings": counts["warning"], "grade": result.grade or "", "version": validated.bundle.archived},
    )]
    events += [AssetCheckEvaluation(asset_key=VALIDATION, check_name=name, passed=passed, metadata=metadata,
                                    severity=AssetCheckSeverity.ERROR, partition=partition)
               for name, passed, metadata in phase_outcomes(result)]
    if done.accepted:
        events.append(AssetMaterialization("accepted_filing", partition=partition,
                                           metadata={"sequence": validated.sequence,
                                                     "version": done.accepted_version}))
    if done.dataset_versions:
        events.append(AssetMaterialization("filing_results", partition=partition,
                                           metadata={"grade": result.grade or "",
                                                     "dataset_versions": MetadataValue.json(done.dataset_versions)}))
    if done.outbox is not None:
        events.append(AssetMaterialization("publication_outbox", partition=partition,
                                           metadata={"feed": done.outbox.feed,
                                                     "files": MetadataValue.json(done.outbox.files)}))
    return events


@job(name="filing_batch_job", executor_def=in_process_executor, tags={JOB_TAG: "filing_batch"},
     description=("A batch of submissions in one run and one step: each validated (phases 1–4 once), and each "
                  "accepted one archived, published as datasets and queued for delivery; every filing reported "
                  "against its own period × guarantor partition."))
def filing_batch_job() -> None:
    process_filings()


@job(name="filing_batch_job_celery", executor_def=celery_executor, tags={JOB_TAG: "filing_batch"},
     description=("filing_batch_job with its step sent to a dagster-celery worker (DANBAO_ENGINE=celery): the "
                  "broker and backend are the executor's config (env var names), the run's settings say which "
                  "store and storage the worker works on."))
def filing_batch_job_celery() -> None:
    process_filings()
