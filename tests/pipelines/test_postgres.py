"""The pipeline once with the Dagster instance on PostgreSQL (dagster-postgres), and the store too.

Skipped without a reachable server, except under CI (``CI=true``), where that is a failure.
"""

from __future__ import annotations

import pytest
from dagster import AssetKey, DagsterRunStatus, RunsFilter, instance_for_test

from pipelines.partitions import filing_key
from pipelines.resources import StoreResource
from store.models import SubmissionState
from tests.pipelines.conftest import make_pipeline
from tests.pipelines.helpers import check_results

pytestmark = pytest.mark.postgres


@pytest.fixture
def dagster_pg_url(pg_database):
    return pg_database


@pytest.fixture
def store_pg_url(pg_admin):  # a second database: Dagster and the store each keep an alembic_version table
    from pipelines.resources import dispose_engines
    from tests.pg import fresh_database

    with fresh_database(pg_admin, "danbao_s") as url:
        try:
            yield url
        finally:
            dispose_engines()


def test_pipeline_runs_with_the_instance_on_postgresql(danbao_env, generated, dagster_pg_url, store_pg_url):
    from sqlalchemy import make_url

    url = make_url(dagster_pg_url)
    # As docs/pipeline.md configures it. The psycopg2 scheme matters: SQLAlchemy 2.1 maps plain
    # postgresql:// to psycopg 3, on which dagster-postgres's NOTIFY statements fail.
    postgres_db = {"hostname": url.host, "port": url.port or 5432, "username": url.username,
                   "password": url.password or "", "db_name": url.database, "scheme": "postgresql+psycopg2"}
    overrides = {"storage": {"postgres": {"postgres_db": postgres_db}}}
    with instance_for_test(overrides=overrides) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        pipeline = make_pipeline(danbao_env, instance, generated.registry_csv, store=StoreResource(database_url=store_pg_url))
        pipeline.drop(generated.clean[0])
        pipeline.drop(generated.rejected[1])
        launched = {run.partition_key: run for run in pipeline.runner.intake(settle_seconds=0)}

        accepted_key = filing_key(generated.period, generated.ids()[0])
        rejected_key = filing_key(generated.period, generated.ids()[1])
        assert launched[accepted_key].success and not launched[rejected_key].success
        assert set(check_results(instance, launched[accepted_key].run_id).values()) == {True}
        runs = instance.get_run_records(RunsFilter(job_name="filing_job"))
        assert sorted(r.dagster_run.status.value for r in runs) == sorted(
            [DagsterRunStatus.SUCCESS.value, DagsterRunStatus.FAILURE.value])
        assert set(instance.get_dynamic_partitions("guarantor")) == set(generated.ids()[:2])
        assert pipeline.materialized("accepted_filing", accepted_key) == 1
        assert pipeline.materialized("accepted_filing", rejected_key) == 0
        assert instance.get_latest_materialization_event(AssetKey("validation_result")) is not None
        states = {s.institution_id: s.state for s in pipeline.submissions()}
        assert states == {generated.ids()[0]: SubmissionState.ACCEPTED, generated.ids()[1]: SubmissionState.REJECTED}
