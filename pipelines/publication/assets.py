"""Publication assets: per filing, queue the PBOC credit-feed files and the CBRC report in the
outbox (in the same transaction that records the feed state); per period, deliver what is due, fetch
the PBOC feedback, queue the period summary and settle which submissions are ``published``. The work
is ``filings.publication``'s; these assets only say when it happens.
"""

import requests
from dagster import (
    AssetExecutionContext,
    MetadataValue,
    Output,
    asset,
    define_asset_job,
    in_process_executor,
)

from connectors.archive import TableBundle
from connectors.archive.results import accepted_filing_of
from connectors.publish.signing import SigningKeys
from filings.publication.delivery import SenderConfig
from filings.publication.enqueue import enqueue_filing
from filings.publication.inputs import from_archive
from filings.publication.service import publish_period
from filings.settings import load
from pipelines.partitions import JOB_TAG, filing_partitions, period_partitions
from pipelines.resources import ArchiveResource, StoreResource
from store.db import session_factory

IO_MANAGER = "filing_io_manager"


@asset(
    partitions_def=filing_partitions,
    group_name="publication",
    io_manager_key=IO_MANAGER,
    kinds={"parquet"},
    deps=["filing_results"],
    description=(
        "The accepted filing's incremental PBOC credit-feed files (records 440/230, report-date codes 10/20/30/50) "
        "and its CBRC supervisory report, queued in the outbox; delivered by the deliveries asset."
    ),
)
def publication_outbox(
    context: AssetExecutionContext, accepted_filing: TableBundle, store: StoreResource
) -> Output[TableBundle]:
    filing = accepted_filing_of(accepted_filing)
    with store.session() as session:
        outcome = enqueue_filing(session, store.blobs(), filing)
    summary = {"submission_id": filing.submission_id, "feed": outcome.feed, "files": outcome.files,
               "records": outcome.records, "report": outcome.report, "note": outcome.note}
    return Output(
        TableBundle(summary, {}),
        metadata={"feed": outcome.feed, "files": MetadataValue.json(outcome.files),
                  "records": MetadataValue.json(outcome.records), "report": outcome.report or "",
                  "note": outcome.note or ""},
    )


@asset(
    partitions_def=period_partitions,
    group_name="publication",
    io_manager_key=IO_MANAGER,
    kinds={"parquet"},
    deps=["period_grades"],
    description=(
        "Deliver the period's due outbox items to the PBOC and CBRC endpoints (signed, idempotent, retried with "
        "backoff), fetch PBOC feedback into findings, and queue the period summary across guarantors."
    ),
)
def deliveries(context: AssetExecutionContext, store: StoreResource, archive: ArchiveResource) -> Output[TableBundle]:
    period = context.partition_key
    with requests.Session() as http:
        result = publish_period(session_factory(store.engine()), store.blobs(), http, SigningKeys.from_env(),
                                SenderConfig(endpoints=load().endpoints()), period,
                                load=from_archive(archive.archive()))
    d = result.delivery
    meta = {"period": period, "delivered": d.delivered, "failed": d.failed, "retried": d.retried, "open": d.open,
            "delivery_errors": d.errors, "publish_errors": result.last.errors if result.last else []}
    return Output(TableBundle(meta, {}), metadata={
        "delivered": d.delivered, "failed": d.failed, "retried": d.retried, "open": d.open,
        "errors": MetadataValue.json(d.errors + meta["publish_errors"]),
    })


delivery_job = define_asset_job(
    "delivery_job",
    selection=[deliveries],
    executor_def=in_process_executor,
    tags={JOB_TAG: "delivery"},
    description="Deliver the period's outbox (run after period_job; safe to run again: idempotency keys).",
)

FILING_ASSETS = [publication_outbox]
PERIOD_ASSETS: list = []  # deliveries runs in its own job: it talks to the regulators' endpoints
