"""Sensors: the landing folder → submissions → runs planned from the store's state; guarantor partitions.

``intake_sensor`` is the single place that turns submissions into runs, whatever door they came
through (landing folder, pull job, portal upload, inline validation, confirmation): each tick it picks
up ready packages from the landing folder (recording each as a submission before anything else), then
asks the store what is left to do and claims it (``filings.lifecycle``), requesting batch runs (or one run
per submission). One launcher and the store's claims mean no two runs for one submission, even though
Dagster's run keys are only unique per sensor.
"""


import datetime as dt
import os
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from dagster import (
    AddDynamicPartitionsRequest,
    AssetKey,
    DagsterInstance,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunRequest,
    RunsFilter,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from connectors.intake.landing import LandedPackage, LandingState, local_copy, scan_landing
from connectors.intake.receive import identify, is_uscc_shaped, manifest_from_folder, manifest_from_zip
from filings.intake import receive_package
from filings.lifecycle import claim, lease, plan
from pipelines import settings
from pipelines.batch.jobs import filing_batch_job, filing_batch_job_celery
from pipelines.intake.triage import TriageConfig, triage_job
from pipelines.jobs import filing_job
from pipelines.partitions import (
    GUARANTOR,
    SEQUENCE_TAG,
    SOURCE_TAG,
    SUBMISSION_TAG,
    filing_key,
    partition_periods,
    partitionable,
)
from pipelines.resources import (
    ArchiveResource,
    DatasetsResource,
    LandingResource,
    RunSettings,
    StoreResource,
    run_settings,
)
from store import repository as repo
from store.models import SubmissionSource

#: Seconds between intake ticks: a package is seen, then picked up on the next look (half-written uploads
#: are never taken), so a burst is in the store one interval after it lands.
INTAKE_INTERVAL_S = 15
#: Runs requested per tick at most; the rest wait for the next tick (keeps ticks short at deadline peaks).
MAX_RUNS_PER_TICK = 500
#: What an accepted submission still needs when it was accepted outside its filing run.
DOWNSTREAM_OF_ACCEPTANCE = ("accepted_filing", "filing_results", "publication_outbox")
BATCH_TAG = "danbao/batch_size"
#: Tag on a run whose process died before it finished (set when the sensor marks it failed).
ABANDONED_TAG = "danbao/abandoned"
#: Not finished, and not waiting in the queue: a process is (or was) running it.
UNFINISHED = [DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.STARTED,
              DagsterRunStatus.CANCELING]


@sensor(
    name="intake_sensor",
    jobs=[filing_batch_job, filing_batch_job_celery, filing_job, triage_job],
    minimum_interval_seconds=INTAKE_INTERVAL_S,
    default_status=DefaultSensorStatus.RUNNING,
    description=(
        "Picks up packages from the landing folder (each once, by SHA-256; never half-written), records them as "
        "submissions, then plans runs from the store's state for every door: batches of submissions in "
        "filing_batch_job (filing_batch_job_celery with DANBAO_ENGINE=celery; or one filing_job run each, "
        "DANBAO_RUN_LAYOUT=per_submission), each batch run carrying the store and storage it works on."
    ),
)
def intake_sensor(context: SensorEvaluationContext, store: StoreResource, landing: LandingResource,
                  archive: ArchiveResource, datasets: DatasetsResource) -> SensorResult:
    deadline = time.monotonic() + landing.tick_budget_seconds
    state = LandingState.from_json(context.cursor)
    ready, new_state = scan_landing(landing.root(), state, stale_after=landing.stale_after_seconds,
                                    limit=landing.max_per_tick, deadline=deadline)
    received, left = receive_landed(context, store, ready, new_state, deadline, landing.receive_workers)
    if ready:
        context.log.info(f"landing: {received} package(s) received, {left} left for the next tick")
    run_requests, new_guarantors = plan_runs(context.instance, store,
                                             carry=lambda: run_settings(store, archive, datasets))
    return SensorResult(
        run_requests=run_requests,
        dynamic_partitions_requests=[AddDynamicPartitionsRequest(GUARANTOR, sorted(new_guarantors))]
        if new_guarantors
        else None,
        cursor=new_state.to_json(),
    )


def receive_landed(context: SensorEvaluationContext, store: StoreResource, ready: list[LandedPackage],
                   state: LandingState, deadline: float, workers: int = 1) -> tuple[int, int]:
    """Record each ready package as a submission (bytes first), until ``deadline`` (``time.monotonic()``):
    the packages not reached are put back in ``state`` as pending, so the next tick takes them first.

    Receiving waits on disk and database (a blob's fsync, the submission's commit), so ``workers``
    threads receive side by side. Packages of one guarantor and period stay in one thread, in the
    scan's order, so that their sequence numbers follow that order as before. Returns (received, left)."""
    blobs = store.blobs()
    groups: dict[str, list[LandedPackage]] = {}
    for package in ready:
        groups.setdefault(package_identity(package), []).append(package)
    messages: list[str] = []

    def receive_group(packages: list[LandedPackage]) -> tuple[int, int]:
        received = 0
        for index, package in enumerate(packages):
            if time.monotonic() >= deadline:
                for rest in packages[index:]:
                    state.put_back(rest)
                return received, len(packages) - index
            try:
                with local_copy(package) as path, store.session() as session:
                    receipt = receive_package(session, blobs, path, SubmissionSource.LANDING,
                                              institution_id=package.institution_hint)
            except OSError as exc:  # moved or unreadable between the scan and now: look again next tick
                state.put_back(package)
                messages.append(f"landing {package.relpath}: cannot be read now ({exc}); retried next tick")
                continue
            received += 1
            if receipt.submission is None:
                messages.append(f"landing {package.relpath}: not recorded ({receipt.note}); bytes kept as "
                                f"{receipt.blob_key}")
        return received, 0

    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="danbao-landing") as pool:
        outcomes = list(pool.map(receive_group, groups.values()))
    for message in messages:
        context.log.warning(message)
    return sum(r for r, _ in outcomes), sum(left for _, left in outcomes)


def package_identity(package: LandedPackage) -> str:
    """Which guarantor and period a landed package is for, as far as known without receiving it: its
    manifest's (local packages), else its drop folder, else nothing (a group of its own)."""
    manifest = None
    if isinstance(package.path, Path):
        manifest = manifest_from_zip(package.path) if package.kind == "zip" else manifest_from_folder(package.path)
    who = identify(manifest, institution_id=package.institution_hint)
    if who.institution_id is None:
        return f"path:{package.relpath}"
    return f"{who.institution_id}/{who.period or ''}" if who.period else f"{who.institution_id}/?"


def plan_runs(instance: DagsterInstance, store: StoreResource, limit: int = MAX_RUNS_PER_TICK, *,
              layout: str | None = None, batch_size: int | None = None, engine: str | None = None,
              carry: Callable[[], RunSettings] | None = None) -> tuple[list[RunRequest], set[str]]:
    """Runs for what the store says is left to do and nobody holds (``filings.lifecycle.plan``), claimed
    in the same transaction, so a submission is in one run at a time whatever door it came through and
    whatever was killed when.

    ``batch`` layout (the default): submissions to validate, and accepted ones whose datasets are not
    written (confirmed in the portal, validated inline, or whose run died), go ``batch_size`` at a time
    into ``filing_batch_job`` runs. ``per_submission`` layout: one ``filing_job`` run per submission (of
    ``accepted_filing`` and what follows, for an accepted one), or a triage run when it cannot be a
    partition.

    A batch run carries ``carry()`` (where its data lives, nothing secret: ``RunSettings``), so
    that a worker takes them from the run; with ``engine`` ``celery`` (``DANBAO_ENGINE``) the batches go
    to ``filing_batch_job_celery``, whose executor config names the broker's environment variables."""
    mark_abandoned(instance, lease())
    layout = layout or settings.run_layout()
    size = batch_size or settings.batch_size()
    engine = engine or settings.engine()
    batch_job, execution = filing_batch_job, None
    if engine == settings.CELERY:
        batch_job, execution = filing_batch_job_celery, celery_execution_config()
    periods = partition_periods()
    known = set(instance.get_dynamic_partitions(GUARANTOR))
    requests: list[RunRequest] = []
    new_guarantors: set[str] = set()
    with store.session() as session:
        todo = plan(session, limit=limit * (size if layout == settings.BATCH else 1))
        pending = [(s, False) for s in todo.to_validate] + [(s, True) for s in todo.to_publish]
        claimed: list[int] = []
        for submission, _ in pending:
            if partitionable(submission.institution_id, submission.period, periods) \
                    and submission.institution_id not in known:
                new_guarantors.add(submission.institution_id)
        if layout == settings.BATCH:
            ids = sorted(s.id for s, _ in pending)
            carried = carry().model_dump() if carry and ids else None
            if carried is None and engine == settings.CELERY and ids:
                raise ValueError("celery batch runs must carry their settings (carry)")
            for start in range(0, min(len(ids), limit * size), size):
                chunk = ids[start:start + size]
                op_config: dict = {"submission_ids": chunk}
                if carried is not None:
                    op_config["settings"] = carried
                run_config: dict = {"ops": {"process_filings": {"config": op_config}}}
                if execution is not None:
                    run_config["execution"] = execution
                requests.append(RunRequest(
                    run_key=f"batch-{chunk[0]}-{chunk[-1]}-{uuid.uuid4().hex[:8]}",
                    job_name=batch_job.name,
                    run_config=run_config,
                    tags={BATCH_TAG: str(len(chunk))},
                ))
                claimed += chunk
        else:
            for submission, downstream in pending[:limit]:
                tags = {SUBMISSION_TAG: str(submission.id), SEQUENCE_TAG: str(submission.sequence),
                        SOURCE_TAG: str(submission.source)}
                run_key = f"{'publish' if downstream else 'submission'}-{submission.id}-{submission.plan_attempts + 1}"
                if partitionable(submission.institution_id, submission.period, periods):
                    requests.append(RunRequest(
                        run_key=run_key, job_name=filing_job.name,
                        partition_key=filing_key(submission.period, submission.institution_id),
                        asset_selection=[AssetKey(a) for a in DOWNSTREAM_OF_ACCEPTANCE] if downstream else None,
                        tags=tags,
                    ))
                elif not downstream:
                    requests.append(RunRequest(
                        run_key=run_key, job_name=triage_job.name,
                        run_config={"ops": {"triage_submission": {"config": TriageConfig(submission_id=submission.id).model_dump()}}},
                        tags=tags,
                    ))
                else:
                    continue
                claimed.append(submission.id)
        claim(session, claimed)
    return requests, new_guarantors


def mark_abandoned(instance: DagsterInstance, lease: dt.timedelta) -> list[str]:
    """Mark failed every filing or batch run (tag ``danbao/submission_id`` or ``danbao/batch_size``) that
    started longer ago than ``lease`` and has not finished: its process died without Dagster noticing
    (``danbao run`` killed, a lost run worker), and it would otherwise show as running for ever. Its
    submissions come back by themselves (their claims expire with the same lease). Returns the runs' ids."""
    now = time.time()
    marked = []
    for record in instance.get_run_records(RunsFilter(statuses=UNFINISHED)):
        run = record.dagster_run
        if SUBMISSION_TAG not in run.tags and BATCH_TAG not in run.tags:
            continue
        since = record.start_time
        if since is None:
            created = record.create_timestamp
            since = (created if created.tzinfo else created.replace(tzinfo=dt.UTC)).timestamp()
        if now - since < lease.total_seconds():
            continue
        instance.add_run_tags(run.run_id, {ABANDONED_TAG: "its process died"})
        instance.report_run_failed(run, message=(
            f"abandoned: not finished {lease.total_seconds():g} s after it started (DANBAO_VALIDATION_LEASE_SECONDS): "
            "its process died. Its submissions are planned again from the store's state."))
        marked.append(run.run_id)
    return marked


def celery_execution_config() -> dict:
    """The celery executor's run config: the broker and result backend by environment variable name
    (a broker URL may hold a password: it is resolved in the run's process, never shown), the queue."""
    config: dict = {"broker": {"env": "DANBAO_CELERY_BROKER"},
                    "config_source": {"task_default_queue": settings.celery_queue()}}
    if os.environ.get("DANBAO_CELERY_BACKEND"):
        config["backend"] = {"env": "DANBAO_CELERY_BACKEND"}
    return {"config": config}


@sensor(
    name="guarantor_partitions_sensor",
    minimum_interval_seconds=300,
    default_status=DefaultSensorStatus.RUNNING,
    description="Adds a guarantor partition for every institution in the registry (the store).",
)
def guarantor_partitions_sensor(context: SensorEvaluationContext, store: StoreResource) -> SensorResult | SkipReason:
    with store.session() as session:
        registered = {i.institution_id for i in repo.list_institutions(session) if is_uscc_shaped(i.institution_id)}
    missing = registered - set(context.instance.get_dynamic_partitions(GUARANTOR))
    if not missing:
        return SkipReason(f"all {len(registered)} registered guarantors have partitions")
    return SensorResult(dynamic_partitions_requests=[AddDynamicPartitionsRequest(GUARANTOR, sorted(missing))])
