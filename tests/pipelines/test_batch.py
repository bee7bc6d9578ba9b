"""Batched filing runs: many submissions per run and step, each filing still reported against its own
period × guarantor partition with its phase checks, at most seven events per filing, one filing's
trouble never stopping the others, and the same results as one run per submission."""

from __future__ import annotations

from collections import Counter

import pytest
from dagster import DagsterEventType, DagsterInstance

from connectors.datasets import DatasetStore
from filings.confirmation import confirm_submission
from pipelines.partitions import filing_key
from store.models import SubmissionState
from tests.pipelines.conftest import make_pipeline

PER_FILING_EVENTS = (DagsterEventType.ASSET_MATERIALIZATION, DagsterEventType.ASSET_CHECK_EVALUATION)


@pytest.fixture
def batched(danbao_env, generated, monkeypatch):
    monkeypatch.setenv("DANBAO_RUN_LAYOUT", "batch")
    monkeypatch.setenv("DANBAO_BATCH_SIZE", "3")
    return make_pipeline(danbao_env, DagsterInstance.ephemeral(), generated.registry_csv)


def _events(instance, run_id) -> Counter:
    counts: Counter = Counter()
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is not None and event.event_type in PER_FILING_EVENTS:
            data = event.event_specific_data
            key = event.asset_key or getattr(data, "asset_key", None)
            counts[(event.event_type.value, key.to_user_string() if key else None)] += 1
    return counts


def test_a_batch_takes_each_filing_the_whole_way_and_reports_it_per_partition(batched, generated):
    ids = generated.ids()
    for package in (generated.clean[0], generated.rejected[1], generated.warned[2], generated.clean[3]):
        batched.drop(package)
    runs = batched.runner.intake(settle_seconds=0)
    assert [r.job_name for r in runs] == ["filing_batch_job", "filing_batch_job"]  # 4 submissions, batches of 3
    assert all(r.success for r in runs)  # a rejected filing does not fail its batch
    states = {s.institution_id: s.state for s in batched.submissions()}
    assert states == {ids[0]: SubmissionState.ACCEPTED, ids[1]: SubmissionState.REJECTED,
                      ids[2]: SubmissionState.NEEDS_CONFIRMATION, ids[3]: SubmissionState.ACCEPTED}
    for guarantor, accepted in ((ids[0], 1), (ids[1], 0), (ids[2], 0), (ids[3], 1)):
        key = filing_key(generated.period, guarantor)
        assert batched.materialized("validation_result", key) == 1
        for asset in ("accepted_filing", "filing_results", "publication_outbox"):
            assert batched.materialized(asset, key) == accepted
    total = Counter()
    for run in runs:
        total += _events(batched.instance, run.run_id)
    assert total[("ASSET_CHECK_EVALUATION", "validation_result")] == 4 * 3
    per_filing = sum(total.values()) / 4
    assert per_filing <= 10  # 4 + 3 per accepted filing, 4 otherwise: 5.5 here
    published = DatasetStore(batched.home / "datasets").read("grades", generated.period)
    assert sorted(published["institution_id"].to_pylist()) == sorted([ids[0], ids[3]])
    assert batched.runner.tick() == []  # nothing left, nothing planned twice


def test_a_confirmed_filing_is_taken_on_by_the_next_batch(batched, generated):
    guarantor = generated.ids()[2]
    batched.drop(generated.warned[2])
    [first] = batched.runner.intake(settle_seconds=0)
    [submission] = batched.submissions()
    assert first.success and submission.state == SubmissionState.NEEDS_CONFIRMATION
    with batched.store.session() as session:
        confirm_submission(session, submission.id)
    [again] = batched.runner.tick()
    assert again.success and again.job_name == "filing_batch_job"
    [submission] = batched.submissions()
    assert submission.datasets_published_at is not None
    assert batched.materialized("filing_results", filing_key(generated.period, guarantor)) == 1
    assert batched.materialized("validation_result", filing_key(generated.period, guarantor)) == 2  # its archived result, reported again
    assert batched.runner.tick() == []


def test_batched_and_per_submission_layouts_publish_the_same(danbao_env, generated, monkeypatch, tmp_path):
    published = {}
    for layout in ("batch", "per_submission"):
        home = tmp_path / layout
        monkeypatch.setenv("DANBAO_HOME", str(home))
        monkeypatch.setenv("DANBAO_RUN_LAYOUT", layout)
        pipeline = make_pipeline(home, DagsterInstance.ephemeral(), generated.registry_csv)
        for package in generated.clean:
            pipeline.drop(package)
        assert all(r.success for r in pipeline.runner.intake(settle_seconds=0))
        store = DatasetStore(home / "datasets")
        published[layout] = {
            name: store.read(name, generated.period).drop_columns(["submission_id"]).sort_by("institution_id")
            for name in ("indicators", "grades")
        }
        from pipelines.resources import dispose_engines

        dispose_engines()
    for name in ("indicators", "grades"):
        assert published["batch"][name].equals(published["per_submission"][name]), name
