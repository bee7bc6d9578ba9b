"""Pulling packages from guarantors' endpoints: a job (one run polls every endpoint, in parallel) and the
schedule that runs it daily from the 1st of the month to the deadline.

The pull run only records submissions; the intake sensor then starts one validation run per new
submission, exactly as for the landing folder and the portal.
"""


import datetime as dt
import logging
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass

from dagster import (
    Config,
    DefaultScheduleStatus,
    MetadataValue,
    OpExecutionContext,
    Output,
    RunConfig,
    RunRequest,
    ScheduleEvaluationContext,
    in_process_executor,
    job,
    op,
    schedule,
)
from pydantic import Field
from sqlalchemy import select

from connectors.intake.pull import EtagCache, PullClient, PullResult
from filings.intake import receive_package
from pipelines import settings
from pipelines.partitions import JOB_TAG, TIMEZONE
from pipelines.resources import Endpoint, PullResource, StoreResource
from store import repository as repo
from store.blobs import BlobStore
from store.models import Submission, SubmissionSource
from validations.context import BEIJING, Period, now_beijing

PERIOD_TAG = "danbao/period"


@dataclass(frozen=True)
class PullOutcome:
    institution_id: str
    url: str
    status: str  # new, duplicate, unchanged, not_published, failed
    attempts: int
    submission_id: int | None = None
    sequence: int | None = None
    error: str | None = None


def previous_period(now: dt.datetime | None = None) -> str:
    when = (now or now_beijing()).astimezone(BEIJING)
    return str(Period(when.year, when.month).previous())


def pull_period(
    store: StoreResource, pull: PullResource, period: str, log: logging.Logger | None = None, **client_overrides
) -> list[PullOutcome]:
    """Poll every endpoint for ``period`` and record each new package as a submission."""
    log = log or logging.getLogger(__name__)
    with store.session() as session:
        registry_urls = {i.institution_id: i.pull_url for i in repo.list_institutions(session, status="active")}
        filed = set(session.scalars(select(Submission.package_sha256).where(Submission.period == period)))
    endpoints = pull.endpoints(registry_urls)
    etags = pull.etags()
    for endpoint in endpoints:  # an ETag whose package the store does not hold (store reset) is useless
        cached = etags.get(period, endpoint.institution_id, endpoint.url_for(period))
        if cached and cached.get("sha256") not in filed:
            etags.drop(period, endpoint.institution_id, endpoint.url_for(period))
    local = threading.local()

    def fetch(endpoint: Endpoint) -> tuple[Endpoint, str, PullResult]:
        client: PullClient | None = getattr(local, "client", None)
        if client is None:
            client = local.client = pull.client(**client_overrides)
        url = endpoint.url_for(period)
        cached = etags.get(period, endpoint.institution_id, url)
        return endpoint, url, client.fetch(url, endpoint.token, cached["etag"] if cached else None)

    outcomes: list[PullOutcome] = []
    blobs = store.blobs()
    try:
        with ThreadPoolExecutor(max_workers=max(1, pull.workers), thread_name_prefix="danbao-pull") as pool:
            futures = [pool.submit(fetch, endpoint) for endpoint in endpoints]
            for future in as_completed(futures):  # recorded here, one thread: sessions are not shared
                endpoint, url, result = future.result()
                outcomes.append(_record(store, blobs, etags, period, endpoint, url, result, log))
    finally:
        etags.save()  # what was recorded keeps its ETag even if recording a later package failed
    return sorted(outcomes, key=lambda o: o.institution_id)


def _record(
    store: StoreResource,
    blobs: BlobStore,
    etags: EtagCache,
    period: str,
    endpoint: Endpoint,
    url: str,
    result: PullResult,
    log: logging.Logger,
) -> PullOutcome:
    who = endpoint.institution_id
    if result.status == "unchanged":
        return PullOutcome(who, url, "unchanged", result.attempts)
    if result.status == "failed":
        status = "not_published" if result.not_published else "failed"
        (log.info if result.not_published else log.warning)(f"pull {who} {url}: {result.error} after {result.attempts} attempt(s)")
        return PullOutcome(who, url, status, result.attempts, error=result.error)
    assert result.data is not None
    with store.session() as session:
        receipt = receive_package(session, blobs, result.data, SubmissionSource.PULL, institution_id=who, period=period)
    if receipt.institution_id != who:
        log.warning(f"pull {who} {url}: the package's manifest names {receipt.institution_id}")
    if result.etag and receipt.submission is not None:
        etags.put(period, who, url, result.etag, receipt.package_sha256)
    submission = receipt.submission
    status = "new" if receipt.created else "duplicate"
    log.info(f"pull {who}: {status} package {receipt.package_sha256[:12]}" + (f" → submission #{submission.sequence}" if submission else ""))
    return PullOutcome(who, url, status, result.attempts, submission.id if submission else None,
                       submission.sequence if submission else None)


class PullConfig(Config):
    period: str | None = Field(default=None, description="YYYY-MM; default: the month before today (Beijing).")


@op(name="pull_packages", description="Fetch every guarantor endpoint's package for the period; record new ones.")
def pull_packages(
    context: OpExecutionContext, config: PullConfig, store: StoreResource, pull: PullResource
) -> Output[dict[str, int]]:
    period = config.period or previous_period()
    outcomes = pull_period(store, pull, period, context.log)
    by_status: dict[str, int] = {}
    for outcome in outcomes:
        by_status[outcome.status] = by_status.get(outcome.status, 0) + 1
    return Output(
        by_status,
        metadata={
            "period": period,
            "endpoints": len(outcomes),
            "by_status": MetadataValue.json(by_status),
            "outcomes": MetadataValue.json([o.__dict__ for o in outcomes[:200]]),
        },
    )


@job(name="pull_job", executor_def=in_process_executor, tags={JOB_TAG: "pull"},
     description="Poll the guarantors' endpoints once (ETag-conditional) and record new packages.")
def pull_job() -> None:
    pull_packages()


@schedule(
    name="pull_schedule",
    cron_schedule=f"0 8 1-{settings.deadline_day()} * *",
    job=pull_job,
    execution_timezone=TIMEZONE,
    default_status=DefaultScheduleStatus.RUNNING,
    description="Daily at 08:00 Beijing from the 1st to the deadline: pull last month's packages.",
)
def pull_schedule(context: ScheduleEvaluationContext) -> RunRequest:
    when = context.scheduled_execution_time.astimezone(BEIJING)
    period = previous_period(when)
    return RunRequest(
        run_key=f"pull-{when:%Y-%m-%d}",
        run_config=RunConfig(ops={"pull_packages": PullConfig(period=period)}),
        tags={PERIOD_TAG: period},
    )
