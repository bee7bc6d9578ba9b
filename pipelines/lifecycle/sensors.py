"""Sensors: the landing folder → submissions → runs planned from the store's state; guarantor partitions.

``intake_sensor`` is the single place that turns submissions into runs, whatever door they came
through (landing folder, pull job, portal upload, inline validation, confirmation): each tick it picks
up ready packages from the landing folder (recording each as a submission before anything else), then
asks the store what is left to do (``filings.lifecycle``) and requests a run for each submission that
has none in progress. One launcher means no two runs for one submission, even though Dagster's run
keys are only unique per sensor.
"""


import datetime as dt
import time

from dagster import (
    AddDynamicPartitionsRequest,
    AssetKey,
    DagsterInstance,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunRecord,
    RunRequest,
    RunsFilter,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from connectors.intake.landing import LandingState, scan_landing
from connectors.intake.receive import is_uscc_shaped
from filings.intake import receive_package
from filings.lifecycle import plan, validation_lease
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
from pipelines.resources import LandingResource, StoreResource
from store import repository as repo
from store.models import SubmissionSource

#: Runs requested per tick at most; the rest wait for the next tick (keeps ticks short at deadline peaks).
MAX_RUNS_PER_TICK = 500
#: Finished runs per submission before it is left for an operator (abandoned runs do not count).
MAX_ATTEMPTS = 3
#: Tag on a run whose process died before it finished (set when the sensor marks it failed).
ABANDONED_TAG = "danbao/abandoned"
#: What an accepted submission still needs when it was accepted outside its filing run.
DOWNSTREAM_OF_ACCEPTANCE = ("accepted_filing", "filing_results", "publication_outbox")
FINISHED = frozenset({DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED})
#: Not finished, and not waiting in the queue: a process is (or was) running it.
UNFINISHED = [DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.STARTED,
              DagsterRunStatus.CANCELING]


@sensor(
    name="intake_sensor",
    jobs=[filing_job, triage_job],
    minimum_interval_seconds=15,
    default_status=DefaultSensorStatus.RUNNING,
    description=(
        "Picks up packages from the landing folder (each once, by SHA-256; never half-written), records them as "
        "submissions, and starts one filing_job run per received submission from any door."
    ),
)
def intake_sensor(context: SensorEvaluationContext, store: StoreResource, landing: LandingResource) -> SensorResult:
    state = LandingState.from_json(context.cursor)
    ready, new_state = scan_landing(
        landing.root(), state, stale_after=landing.stale_after_seconds, limit=landing.max_per_tick
    )
    blobs = store.blobs()
    for package in ready:
        try:
            with store.session() as session:
                receipt = receive_package(
                    session, blobs, package.path, SubmissionSource.LANDING, institution_id=package.institution_hint
                )
        except OSError as exc:  # moved or unreadable between the scan and now: look again next tick
            new_state.done.pop(package.relpath, None)
            context.log.warning(f"landing {package.relpath}: cannot be read now ({exc}); retried next tick")
            continue
        if receipt.submission is None:
            context.log.warning(f"landing {package.relpath}: not recorded ({receipt.note}); bytes kept as {receipt.blob_key}")
        else:
            what = "new submission" if receipt.created else "already received as"
            context.log.info(
                f"landing {package.relpath}: {what} #{receipt.submission.sequence} of {receipt.institution_id} {receipt.period}"
            )
    run_requests, new_guarantors = plan_runs(context.instance, store)
    return SensorResult(
        run_requests=run_requests,
        dynamic_partitions_requests=[AddDynamicPartitionsRequest(GUARANTOR, sorted(new_guarantors))]
        if new_guarantors
        else None,
        cursor=new_state.to_json(),
    )


def plan_runs(instance: DagsterInstance, store: StoreResource, limit: int = MAX_RUNS_PER_TICK) -> tuple[list[RunRequest], set[str]]:
    """Runs for what the store says is left to do (``filings.lifecycle.plan``), whatever door a
    submission came through and whatever was killed when: a submission to validate gets a filing run
    (or a triage run when it cannot be a partition); an accepted one whose datasets are not written
    (confirmed in the portal, validated inline, or whose run died) gets a run of ``accepted_filing`` and
    what follows. A submission with a run in progress waits. A submission's run that has not finished
    within the lease (``DANBAO_VALIDATION_LEASE_SECONDS``) was abandoned: its process died (``danbao run``
    killed, a run worker lost) without telling the instance, so it is marked failed there (tag
    ``danbao/abandoned``) and does not count as an attempt, since it says nothing about the submission.
    One whose runs finished without the work done ``MAX_ATTEMPTS`` times is left for an operator (its
    runs' logs say why)."""
    lease = validation_lease()
    mark_abandoned(instance, lease)
    with store.session() as session:
        todo = plan(session, lease=lease, limit=limit)
    if not todo.to_validate and not todo.to_publish:
        return [], set()
    ids = [str(s.id) for s in (*todo.to_validate, *todo.to_publish)]
    runs: dict[str, list[RunRecord]] = {}
    for record in instance.get_run_records(RunsFilter(tags={SUBMISSION_TAG: ids})):
        runs.setdefault(record.dagster_run.tags.get(SUBMISSION_TAG, ""), []).append(record)
    periods = partition_periods()
    known = set(instance.get_dynamic_partitions(GUARANTOR))
    requests: list[RunRequest] = []
    new_guarantors: set[str] = set()
    for submission, downstream in [(s, False) for s in todo.to_validate] + [(s, True) for s in todo.to_publish]:
        mine = [r.dagster_run for r in runs.get(str(submission.id), [])]
        attempts = sum(1 for r in mine if r.status in FINISHED and ABANDONED_TAG not in r.tags)
        if any(r.status not in FINISHED for r in mine) or attempts >= MAX_ATTEMPTS or len(requests) >= limit:
            continue
        tags = {SUBMISSION_TAG: str(submission.id), SEQUENCE_TAG: str(submission.sequence),
                SOURCE_TAG: str(submission.source)}
        run_key = f"{'publish' if downstream else 'submission'}-{submission.id}-{len(mine) + 1}"
        if partitionable(submission.institution_id, submission.period, periods):
            requests.append(RunRequest(
                run_key=run_key,
                job_name=filing_job.name,
                partition_key=filing_key(submission.period, submission.institution_id),
                asset_selection=[AssetKey(a) for a in DOWNSTREAM_OF_ACCEPTANCE] if downstream else None,
                tags=tags,
            ))
            if submission.institution_id not in known:
                new_guarantors.add(submission.institution_id)
        elif not downstream:
            requests.append(RunRequest(
                run_key=run_key,
                job_name=triage_job.name,
                run_config={"ops": {"triage_submission": {"config": TriageConfig(submission_id=submission.id).model_dump()}}},
                tags=tags,
            ))
    return requests, new_guarantors


def mark_abandoned(instance: DagsterInstance, lease: dt.timedelta) -> list[str]:
    """Mark failed every submission's run (tag ``danbao/submission_id``) that was created or started
    longer ago than ``lease`` and has not finished: its process died without Dagster noticing (``danbao
    run`` killed, a lost run worker), and it would otherwise show as running for ever and hold its
    submission back. A queued run waits for the queue however long. Returns the runs' ids."""
    now = time.time()
    marked = []
    for record in instance.get_run_records(RunsFilter(statuses=UNFINISHED)):
        run = record.dagster_run
        if SUBMISSION_TAG not in run.tags:
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
            "its process died. Its submission is planned again from the store's state."))
        marked.append(run.run_id)
    return marked


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
