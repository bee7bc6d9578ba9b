"""Sensors: the landing folder → submissions → one validation run per submission; guarantor partitions.

``intake_sensor`` is the single place that turns submissions into runs, whatever door they came
through (landing folder, pull job, portal upload): each tick it picks up ready packages from the
landing folder (recording each as a submission before anything else), then requests a run for every
submission still ``received`` that has no run yet. One launcher means no two runs for one submission,
even though Dagster's run keys are only unique per sensor.
"""


from dagster import (
    AddDynamicPartitionsRequest,
    DagsterInstance,
    DefaultSensorStatus,
    RunRequest,
    RunsFilter,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from connectors.intake.landing import LandingState, scan_landing
from connectors.intake.receive import is_uscc_shaped
from pipelines.filing_service import receive_package
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
from store.models import SubmissionSource, SubmissionState

#: Runs requested per tick at most; the rest wait for the next tick (keeps ticks short at deadline peaks).
MAX_RUNS_PER_TICK = 500


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
    """A run request for every ``received`` submission without a run, one for every submission accepted
    after its run (a guarantor confirmed its warnings in the portal: ``accepted_filing`` and what follows
    must now materialize), and the guarantor partitions they need."""
    with store.session() as session:
        received = repo.list_submissions(session, state=SubmissionState.RECEIVED)
        accepted = repo.list_submissions(session, state=SubmissionState.ACCEPTED)
    confirmed = confirmed_after_their_run(instance, accepted)
    if not received:
        return confirmed[:limit], set()
    ids = [str(s.id) for s in received]
    launched = {
        record.dagster_run.tags.get(SUBMISSION_TAG)
        for record in instance.get_run_records(RunsFilter(tags={SUBMISSION_TAG: ids}))
    }
    periods = partition_periods()
    known = set(instance.get_dynamic_partitions(GUARANTOR))
    requests: list[RunRequest] = []
    new_guarantors: set[str] = set()
    for submission in received:
        if str(submission.id) in launched:
            continue
        if len(requests) >= limit:
            break
        tags = {SUBMISSION_TAG: str(submission.id), SEQUENCE_TAG: str(submission.sequence), SOURCE_TAG: str(submission.source)}
        run_key = f"submission-{submission.id}"
        if partitionable(submission.institution_id, submission.period, periods):
            requests.append(
                RunRequest(
                    run_key=run_key,
                    job_name=filing_job.name,
                    partition_key=filing_key(submission.period, submission.institution_id),
                    tags=tags,
                )
            )
            if submission.institution_id not in known:
                new_guarantors.add(submission.institution_id)
        else:
            requests.append(
                RunRequest(
                    run_key=run_key,
                    job_name=triage_job.name,
                    run_config={"ops": {"triage_submission": {"config": TriageConfig(submission_id=submission.id).model_dump()}}},
                    tags=tags,
                )
            )
    return (requests + confirmed)[: max(limit, len(requests))], new_guarantors


def confirmed_after_their_run(instance: DagsterInstance, accepted: list) -> list[RunRequest]:
    """Submissions accepted after their only filing run ended: confirmed since, so run them once more
    (validation keeps its final record; ``accepted_filing`` now yields). The run key makes it once."""
    if not accepted:
        return []
    records = instance.get_run_records(RunsFilter(tags={SUBMISSION_TAG: [str(s.id) for s in accepted]}))
    runs: dict[str, list] = {}
    for record in records:
        runs.setdefault(record.dagster_run.tags.get(SUBMISSION_TAG), []).append(record)
    requests = []
    for submission in accepted:
        mine = runs.get(str(submission.id), [])
        if len(mine) != 1 or mine[0].end_time is None or submission.accepted_at is None:
            continue
        if submission.accepted_at.timestamp() <= mine[0].end_time:
            continue  # accepted by that run itself
        requests.append(RunRequest(
            run_key=f"confirmed-{submission.id}",
            job_name=filing_job.name,
            partition_key=filing_key(submission.period, submission.institution_id),
            tags={SUBMISSION_TAG: str(submission.id), SEQUENCE_TAG: str(submission.sequence),
                  SOURCE_TAG: str(submission.source)},
        ))
    return requests


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
