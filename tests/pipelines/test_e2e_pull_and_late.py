"""End to end: the pull schedule against a real HTTP server on loopback, and the late-filing schedule."""

from __future__ import annotations

import datetime as dt

from dagster import build_schedule_context

from connectors.receivers.guarantor_endpoint import PackageEndpoint
from filings.late import deadline_for
from pipelines.intake.pull import pull_schedule
from pipelines.resources import PullResource
from pipelines.validation.late import late_filings_schedule
from store import repository as repo
from store.models import SubmissionSource, SubmissionState
from tests.pipelines.conftest import make_pipeline
from tests.pipelines.helpers import archive
from validations.context import BEIJING, Period

TOKEN = "pull-token-for-tests"


def outcomes(result) -> dict[str, int]:
    [event] = [e for e in result.all_events if e.event_type_value == "STEP_OUTPUT"]
    return event.event_specific_data.metadata["by_status"].value


def test_pull_schedule_fetches_each_package_once(danbao_env, generated, tmp_path, monkeypatch):
    ids, period = generated.ids(), generated.period
    monkeypatch.setenv("G2_TOKEN", TOKEN)
    with PackageEndpoint(token=TOKEN, stall_seconds=2.0) as server:
        for i in range(3):
            server.publish(f"{ids[i]}/{period}.zip", generated.clean[i].read_bytes())
        server.fail_next(f"{ids[1]}/{period}.zip", "503", "500")  # 5xx, then success
        server.fail_next(f"{ids[2]}/{period}.zip", "stall")  # a timeout, then success
        endpoints = tmp_path / "endpoints.csv"
        endpoints.write_text(
            "institution_id,url,token_env\n"
            f"{ids[0]},{server.url('{institution_id}/{period}.zip')},\n"
            f"{ids[1]},{server.url(ids[1] + '/{period}.zip')},G2_TOKEN\n"
            f"{ids[2]},{server.url(ids[2] + '/{period}.zip')},\n",
            encoding="utf-8",
        )
        pull = PullResource(endpoints_file=str(endpoints), token=TOKEN, max_attempts=3, backoff_seconds=0.01,
                            read_timeout=0.5, connect_timeout=1.0, workers=4)
        from dagster import DagsterInstance

        pipeline = make_pipeline(danbao_env, DagsterInstance.ephemeral(), generated.registry_csv, pull=pull)
        with pipeline.store.session() as session:  # the fourth publishes through the registry's pull_url
            row = {**_registry_row(session, ids[3]), "pull_url": server.url(ids[3] + "/{period}.zip")}
            repo.upsert_institutions(session, [row])

        year, month = Period.parse(period).next().year, Period.parse(period).next().month
        context = build_schedule_context(scheduled_execution_time=dt.datetime(year, month, 3, 8, tzinfo=BEIJING))
        request = pull_schedule(context)
        assert request.run_config["ops"]["pull_packages"]["config"]["period"] == period

        first = pipeline.runner.run_job("pull_job", request.run_config, tags=request.tags)
        assert first.success
        assert outcomes(first) == {"new": 3, "not_published": 1}
        pulled = pipeline.submissions()
        assert sorted(s.institution_id for s in pulled) == sorted(ids[:3])
        assert all(s.source == SubmissionSource.PULL and s.state == SubmissionState.RECEIVED for s in pulled)
        assert [h["fault"] for h in server.hits(f"{ids[1]}/{period}.zip")] == ["503", "500", None]
        assert [h["fault"] for h in server.hits(f"{ids[2]}/{period}.zip")] == ["stall", None]
        assert server.hits(f"{ids[1]}/{period}.zip")[-1]["headers"]["Authorization"] == f"Bearer {TOKEN}"

        launched = pipeline.runner.tick()  # the intake sensor starts one run per pulled submission
        assert len(launched) == 3 and all(run.success for run in launched)
        assert {s.state for s in pipeline.submissions()} == {SubmissionState.ACCEPTED}

        second = pipeline.runner.run_job("pull_job", request.run_config)
        assert outcomes(second) == {"unchanged": 3, "not_published": 1}  # 304: nothing downloaded twice
        assert server.hits(f"{ids[0]}/{period}.zip")[-1]["headers"]["If-None-Match"]
        assert len(pipeline.submissions()) == 3 and pipeline.runner.tick() == []

        server.publish(f"{ids[0]}/{period}.zip", generated.warned[0].read_bytes())  # a resubmission
        third = pipeline.runner.run_job("pull_job", request.run_config)
        assert outcomes(third) == {"new": 1, "unchanged": 2, "not_published": 1}
        [run] = pipeline.runner.tick()
        assert run.success
        assert [(s.sequence, s.state) for s in pipeline.submissions(institution_id=ids[0])] == [
            (1, SubmissionState.ACCEPTED), (2, SubmissionState.NEEDS_CONFIRMATION)]


def _registry_row(session, institution_id: str) -> dict:
    row = repo.get_institution(session, institution_id)
    return {c: getattr(row, c) for c in ("institution_id", "name", "kind", "focus_small_micro_agri", "district_code",
                                         "license_no", "pboc_area_code", "status")}


def test_late_filing_schedule_records_guarantors_without_an_accepted_filing(pipeline, generated):
    ids, period = generated.ids(), generated.period
    pipeline.drop(generated.clean[0])  # accepted
    pipeline.drop(generated.rejected[1])  # rejected: still late
    pipeline.drop(generated.warned[2])  # needs confirmation: not accepted, so late
    pipeline.runner.intake(settle_seconds=0)

    deadline = deadline_for(period)
    day_after = dt.datetime.combine(deadline + dt.timedelta(days=1), dt.time(0, 30), BEIJING)
    request = late_filings_schedule(build_schedule_context(scheduled_execution_time=day_after))
    assert request.partition_key == period

    result = pipeline.runner.run_job("late_filings_job", partition_key=request.partition_key)
    assert result.success
    with pipeline.store.session() as session:
        recorded = [(x.institution_id, x.deadline) for x in repo.list_late_filings(session, period)]
    assert recorded == [(i, deadline) for i in sorted(ids[1:])]
    late = archive(pipeline.home).latest(archive(pipeline.home).partition("late_filings", period))
    assert sorted(late.tables["late_filings"]["institution_id"].to_pylist()) == sorted(ids[1:])


def test_late_filings_wait_for_the_deadline(pipeline):
    now = dt.datetime.now(BEIJING)
    current = str(Period(now.year, now.month).previous())  # last month: its deadline is this month
    result = pipeline.runner.run_job("late_filings_job", partition_key=current,
                                     run_config={"ops": {"late_filings": {"config": {"deadline": "2999-01-15"}}}})
    assert not result.success
    with pipeline.store.session() as session:
        assert repo.list_late_filings(session, current) == []
