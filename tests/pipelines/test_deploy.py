"""The shipped deployment (``deploy/``) loads with Dagster's own config loading, so a typo fails here;
and a batch run refuses a worker whose store or pseudonym key is not the run's, and runs outside the
embedded demo refuse to start without a pseudonym key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from dagster import DagsterInstance

from connectors.datasets.pseudonymise import MissingKeyError
from pipelines.resources import ArchiveResource, DatasetsResource, StoreResource, run_settings
from pipelines.settings import DEMO_MARKER
from tests.pipelines.conftest import TEST_PSEUDONYM_KEY

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
PG_ENV = {"DAGSTER_PG_HOST": "db.internal", "DAGSTER_PG_PORT": "5432", "DAGSTER_PG_USER": "dagster",
          "DAGSTER_PG_PASSWORD": "not-a-real-one", "DAGSTER_PG_DB": "dagster"}


def test_the_deployed_instance_config_is_valid(tmp_path, monkeypatch):
    from dagster._core.instance.config import dagster_instance_config

    for name, value in PG_ENV.items():
        monkeypatch.setenv(name, value)
    shutil.copyfile(DEPLOY / "dagster.yaml", tmp_path / "dagster.yaml")
    config, _ = dagster_instance_config(str(tmp_path))  # validates against Dagster's schema, env resolved
    assert config["storage"]["postgres"]["postgres_db"]["scheme"] == "postgresql+psycopg2"
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    (tmp_path / "dagster.yaml").write_text((DEPLOY / "dagster.yaml").read_text().replace("run_monitoring:", "run_monitorin:"))
    with pytest.raises(Exception, match="run_monitorin"):
        dagster_instance_config(str(tmp_path))


def test_the_deployed_instance_builds_its_coordinator_and_launcher(tmp_path, monkeypatch):
    """Everything but the storage (which would connect) is instantiated from the shipped file."""
    data = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())
    data["storage"] = {"sqlite": {"base_dir": str(tmp_path)}}
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(data))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    with DagsterInstance.from_config(str(tmp_path)) as instance:
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert type(instance.run_launcher).__name__ == "DefaultRunLauncher"
        assert instance.run_coordinator.get_run_queue_config().max_concurrent_runs == 8
    data["run_coordinator"]["config"]["max_concurent_runs"] = data["run_coordinator"]["config"].pop("max_concurrent_runs")
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(Exception, match="max_concurent_runs"), DagsterInstance.from_config(str(tmp_path)) as instance:
        instance.run_coordinator  # noqa: B018


def test_the_worker_config_is_the_celery_executor_s(monkeypatch):
    from dagster_celery.cli import get_validated_config

    monkeypatch.setenv("DANBAO_CELERY_BROKER", "amqp://guest:guest@rabbit:5672//")
    config = get_validated_config(str(DEPLOY / "celery.yaml"))
    assert config["broker"] == "amqp://guest:guest@rabbit:5672//"


def test_the_workspace_names_the_code_location(monkeypatch):
    from dagster._core.workspace.config_schema import ensure_workspace_config

    monkeypatch.setenv("DANBAO_CODE_SERVER_HOST", "code-server")
    ensure_workspace_config(yaml.safe_load((DEPLOY / "workspace.yaml").read_text()), str(DEPLOY / "workspace.yaml"))


def test_the_image_installs_the_project_and_serves_the_code_location():
    text = (DEPLOY / "Dockerfile").read_text()
    assert "pip install" in text and "dagster-postgres" in text and "pipelines.definitions" in text


def test_a_run_carries_no_password(tmp_path):
    store = StoreResource(database_url="postgresql://danbao:s3cret@db.internal:5432/danbao")
    settings = run_settings(store, ArchiveResource(), DatasetsResource())
    assert "s3cret" not in settings.model_dump_json() and settings.database.endswith("@db.internal:5432/danbao")


def test_a_worker_on_another_store_or_key_refuses_the_run(pipeline, generated, tmp_path, monkeypatch):
    from dagster import Failure

    from pipelines.batch.jobs import filing_batch_job

    pipeline.drop(generated.clean[0])
    monkeypatch.setenv("DANBAO_RUN_LAYOUT", "batch")
    requests = pipeline.runner.evaluate_sensor() + pipeline.runner.evaluate_sensor()
    [request] = requests
    carried = request.run_config["ops"]["process_filings"]["config"]["settings"]
    assert carried["database"] == pipeline.store.url()  # SQLite: no password to hide
    other_store = StoreResource(database_url=f"sqlite:///{tmp_path / 'other.db'}")
    with pytest.raises(Failure, match="this worker's store is"):
        filing_batch_job.execute_in_process(run_config=request.run_config, resources={
            "store": other_store, "archive": ArchiveResource(), "datasets": DatasetsResource()})
    with pytest.raises(Failure, match="DANBAO_PSEUDONYM_KEY is not the run's"):
        filing_batch_job.execute_in_process(run_config=request.run_config, resources={
            "store": pipeline.store, "archive": ArchiveResource(),
            "datasets": DatasetsResource(pseudonym_key="another-key-0123456789")})
    [submission] = pipeline.submissions()
    assert str(submission.state) == "received"  # nothing was touched


def test_no_key_outside_the_demo(tmp_path, monkeypatch):
    monkeypatch.delenv("DANBAO_PSEUDONYM_KEY", raising=False)
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    monkeypatch.setenv("DANBAO_HOME", str(home))
    with pytest.raises(MissingKeyError, match="DANBAO_PSEUDONYM_KEY"):
        DatasetsResource().key()
    assert not (home / "secrets").exists()
    (home / DEMO_MARKER).write_text("demo")
    assert len(DatasetsResource().key()) == 64  # the embedded demo keeps its local key
    monkeypatch.setenv("DANBAO_PSEUDONYM_KEY", TEST_PSEUDONYM_KEY)
    assert DatasetsResource().key() == TEST_PSEUDONYM_KEY.encode()
