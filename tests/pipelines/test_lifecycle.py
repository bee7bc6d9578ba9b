"""Runs planned from the store's state: a submission claimed by a run whose process died (the run left
STARTED in the instance) waits for the claim's lease, then is planned again, and the dead run is marked
failed in the instance; a run that fails by itself counts an attempt, and the third leaves the submission
to an operator."""

from __future__ import annotations

import time

from dagster import DagsterRunStatus
from sqlalchemy import update

from filings.intake import receive_package
from filings.lifecycle import LEASE_VARIABLE, MAX_ATTEMPTS, claim
from pipelines.lifecycle.sensors import ABANDONED_TAG
from pipelines.partitions import SUBMISSION_TAG
from pipelines.prudential import assets as prudential_assets
from store.models import Submission, SubmissionState


def test_a_run_whose_process_died_is_marked_failed_and_the_submission_planned_again(pipeline, generated, monkeypatch):
    monkeypatch.delenv(LEASE_VARIABLE, raising=False)
    store = pipeline.store
    with store.session() as session:
        submission_id = receive_package(session, store.blobs(), generated.clean[0], "landing").submission.id
        claim(session, [submission_id])  # planned for a run whose process is then killed
    job = pipeline.defs.resolve_job_def("filing_job")
    dead = [pipeline.instance.create_run_for_job(job, status=DagsterRunStatus.STARTED,
                                                 tags={SUBMISSION_TAG: str(submission_id)})]
    assert pipeline.runner.tick() == []  # claimed, and within the lease: wait

    monkeypatch.setenv(LEASE_VARIABLE, "0.3")
    time.sleep(0.4)
    [run] = pipeline.runner.tick()  # the claim expired: planned again
    assert run.success and run.submission_id == submission_id
    for left in dead:
        record = pipeline.instance.get_run_by_id(left.run_id)
        assert record.status == DagsterRunStatus.FAILURE and ABANDONED_TAG in record.tags
    [row] = pipeline.submissions()
    assert row.state == SubmissionState.ACCEPTED and row.datasets_published_at is not None
    assert pipeline.runner.tick() == []

    # killed after its work was done but before Dagster heard of it: nothing left to plan, marked all the same
    late = pipeline.instance.create_run_for_job(job, status=DagsterRunStatus.STARTED,
                                                tags={SUBMISSION_TAG: str(submission_id)})
    other = pipeline.instance.create_run_for_job(job, status=DagsterRunStatus.STARTED)  # not a submission's run
    time.sleep(0.4)
    assert pipeline.runner.tick() == []
    assert pipeline.instance.get_run_by_id(late.run_id).status == DagsterRunStatus.FAILURE
    assert pipeline.instance.get_run_by_id(other.run_id).status == DagsterRunStatus.STARTED


def test_a_run_that_fails_by_itself_counts_an_attempt_and_the_third_leaves_the_submission_to_an_operator(
        pipeline, generated, monkeypatch):
    store = pipeline.store
    with store.session() as session:
        submission_id = receive_package(session, store.blobs(), generated.clean[0], "landing").submission.id

    def broken(*args, **kwargs):
        raise OSError("the datasets volume is full")

    working = prudential_assets.publish_datasets
    monkeypatch.setattr(prudential_assets, "publish_datasets", broken)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        [run] = pipeline.runner.tick()  # planned again at once: a failure frees the claim
        assert not run.success and run.submission_id == submission_id
        [row] = pipeline.submissions()
        assert row.plan_attempts == attempt and row.planned_at is None
        assert row.state == SubmissionState.ACCEPTED and row.datasets_published_at is None
    assert pipeline.runner.tick() == []  # three failures: left for an operator, not retried every lease

    monkeypatch.setattr(prudential_assets, "publish_datasets", working)
    with store.session() as session:  # the operator, the volume fixed, gives it its attempts back
        session.execute(update(Submission).where(Submission.id == submission_id).values(plan_attempts=0))
    [run] = pipeline.runner.tick()
    assert run.success
    [row] = pipeline.submissions()
    assert row.datasets_published_at is not None
