"""Runs planned from the store's state: a submission claimed by a run whose process died (the run left
STARTED in the instance) waits for the claim's lease, then is planned again, and the dead run is marked
failed in the instance."""

from __future__ import annotations

import time

from dagster import DagsterRunStatus

from filings.intake import receive_package
from filings.lifecycle import LEASE_VARIABLE, claim
from pipelines.lifecycle.sensors import ABANDONED_TAG
from pipelines.partitions import SUBMISSION_TAG
from store.models import SubmissionState


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
