"""A period of several batches on two dagster-celery worker processes (the machine's RabbitMQ), with the
instance configured by ``deploy/dagster.yaml`` on PostgreSQL and the store on PostgreSQL: the same states
and published datasets as the same packages in-process. The workers are started with their own
``DANBAO_HOME``, so blobs, tables and datasets land where the run says, not where the worker would put
them by itself.

Skipped without PostgreSQL or RabbitMQ, except under CI (``CI=true``), where that is a failure.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dagster import DagsterInstance

from connectors.datasets import DatasetStore
from connectors.synthetic import generate_period
from pipelines.resources import StoreResource, dispose_engines
from tests.pg import fresh_database
from tests.pipelines.conftest import TEST_PSEUDONYM_KEY, closed_period_past_deadline, make_pipeline

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
BROKER = os.environ.get("DANBAO_TEST_BROKER", "amqp://guest:guest@127.0.0.1:5672//")
BIN = Path(sys.executable).parent


def _broker_reachable() -> None:
    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=3).close()
    except OSError as exc:
        message = f"RabbitMQ unreachable at 127.0.0.1:5672: {exc}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def packages(tmp_path):
    """Six guarantors: four clean, one rejected (SCH-003), one with warnings only (BIZ-003)."""
    period = closed_period_past_deadline()
    clean = generate_period(tmp_path / "clean", 6, 40, period, seed=11, zip=True)
    rejected = generate_period(tmp_path / "rejected", 6, 40, period, seed=11, inject_kinds=["bad_uscc"], zip=True)
    warned = generate_period(tmp_path / "warned", 6, 40, period, seed=11, inject_kinds=["guaranteed_over_loan"],
                             zip=True)
    return period, tmp_path / "clean" / "registry.csv", [clean[0], rejected[1], warned[2], *clean[3:]]


def _published(root: Path, period: str) -> dict:
    store = DatasetStore(root)
    return {name: store.read(name, period).drop_columns(["submission_id"]).sort_by("institution_id")
            for name in ("indicators", "grades", "subsidies")}


def _states(store: StoreResource) -> dict:
    from store import repository as repo

    with store.session() as session:
        return {s.institution_id: (str(s.state), s.datasets_published_at is not None)
                for s in repo.list_submissions(session)}


def _in_process(home: Path, registry: Path, packages: list[Path], monkeypatch) -> tuple[dict, dict]:
    monkeypatch.setenv("DANBAO_HOME", str(home))
    pipeline = make_pipeline(home, DagsterInstance.ephemeral(), registry)
    for package in packages:
        pipeline.drop(package)
    runs = pipeline.runner.intake(settle_seconds=0)
    assert [r.job_name for r in runs] == ["filing_batch_job"] * 3 and all(r.success for r in runs)
    result = _states(pipeline.store), _published(home / "datasets", closed_period_past_deadline())
    dispose_engines()
    return result


def _start_worker(name: str, home: Path, env: dict, log: Path) -> subprocess.Popen:
    worker_env = {**env, "DANBAO_HOME": str(home),  # its own home: blobs, tables, datasets come from the run
                  "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}"}  # dagster-celery starts `celery`
    return subprocess.Popen(
        [str(BIN / "dagster-celery"), "worker", "start", "-A", "dagster_celery.app", "-y",
         str(ROOT / "deploy" / "celery.yaml"), "-q", env["DANBAO_CELERY_QUEUE"], "-n", name,
         "-l", "INFO", "--", "--pool", "solo"],
        env=worker_env, cwd=str(ROOT), stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)


def _stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _wait_ready(logs: list[Path], procs: list[subprocess.Popen], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc, log in zip(procs, logs, strict=True):
            if proc.poll() is not None:
                raise AssertionError(f"celery worker exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        if all(" ready." in log.read_text(errors="replace") for log in logs):
            return
        time.sleep(0.5)
    raise AssertionError("celery workers not ready:\n" + "\n".join(log.read_text()[-2000:] for log in logs))


def test_a_period_on_two_celery_workers_matches_in_process(tmp_path, packages, pg_admin, monkeypatch):
    _broker_reachable()
    period, registry, filed = packages
    monkeypatch.setenv("DANBAO_RUN_LAYOUT", "batch")
    monkeypatch.setenv("DANBAO_BATCH_SIZE", "2")  # six submissions: three batch runs
    expected_states, expected_datasets = _in_process(tmp_path / "inproc", registry, filed, monkeypatch)

    with fresh_database(pg_admin, "danbao_cd") as dagster_url, fresh_database(pg_admin, "danbao_cs") as store_url:
        from sqlalchemy import make_url

        url = make_url(dagster_url)
        dagster_home = tmp_path / "dagster"
        dagster_home.mkdir()
        shutil.copyfile(ROOT / "deploy" / "dagster.yaml", dagster_home / "dagster.yaml")
        home = tmp_path / "celery"
        env = {"DAGSTER_HOME": str(dagster_home), "DAGSTER_PG_HOST": url.host, "DAGSTER_PG_PORT": str(url.port or 5432),
               "DAGSTER_PG_USER": url.username, "DAGSTER_PG_PASSWORD": url.password or "",
               "DAGSTER_PG_DB": url.database, "DANBAO_HOME": str(home), "DANBAO_DATABASE_URL": store_url,
               "DANBAO_PSEUDONYM_KEY": TEST_PSEUDONYM_KEY, "DANBAO_ENGINE": "celery", "DANBAO_CELERY_BROKER": BROKER,
               "DANBAO_CELERY_QUEUE": f"danbao-test-{secrets.token_hex(4)}", "DANBAO_RUN_LAYOUT": "batch",
               "DANBAO_BATCH_SIZE": "2"}
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        worker_env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
        logs = [tmp_path / f"worker-{i}.log" for i in range(2)]
        workers = [_start_worker(f"w{i}", tmp_path / f"worker-home-{i}", worker_env, logs[i]) for i in range(2)]
        try:
            instance = DagsterInstance.get()
            assert type(instance.run_storage).__name__ == "PostgresRunStorage"
            store = StoreResource(database_url=store_url)
            pipeline = make_pipeline(home, instance, registry, store=store)
            for package in filed:
                pipeline.drop(package)
            requests = pipeline.runner.evaluate_sensor() + pipeline.runner.evaluate_sensor()
            assert [r.job_name for r in requests] == ["filing_batch_job_celery"] * 3
            config = requests[0].run_config
            assert config["execution"]["config"]["broker"] == {"env": "DANBAO_CELERY_BROKER"}
            settings = config["ops"]["process_filings"]["config"]["settings"]
            assert settings["blob_root"] == str(home / "blobs")
            assert settings["database"] == make_url(store_url).render_as_string(hide_password=True)
            _wait_ready(logs, workers)
            runs = [subprocess.Popen(  # one run process per batch, as the run launcher starts them
                [sys.executable, "-m", "tests.pipelines.celery_run",
                 json.dumps({"run_config": r.run_config, "tags": dict(r.tags)})],
                cwd=str(ROOT), env=worker_env, stdout=subprocess.PIPE, text=True) for r in requests]
            done = []
            for proc in runs:
                out, _ = proc.communicate(timeout=300)
                done.append(json.loads(out.strip().splitlines()[-1]))
            assert all(d["success"] for d in done), done
            used = {d["worker"] for d in done}
            assert len(used) == 2 and f"{socket.gethostname()}:{os.getpid()}" not in used, used
            assert _states(store) == expected_states
            got = _published(home / "datasets", period)
            for name, table in expected_datasets.items():
                assert got[name].equals(table), name
            for i in range(2):  # nothing went where the worker's own environment would have put it
                assert not (tmp_path / f"worker-home-{i}" / "datasets").exists()
        finally:
            _stop(workers)
            dispose_engines()
