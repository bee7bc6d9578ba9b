"""Fixtures for the pipeline tests: generated packages, a pipeline on a throw-away Dagster instance and
store, and real HTTP servers on loopback for the pull connector."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from dagster import DagsterInstance, instance_for_test

from connectors.synthetic import generate_period
from filings.intake import load_registry
from pipelines.definitions import build_defs
from pipelines.resources import PullResource, StoreResource, dispose_engines
from pipelines.runner import InProcessRunner
from store import repository as repo
from tests.pg import fresh_database
from validations.context import Period, now_beijing

N_GUARANTORS = 4
TEST_PSEUDONYM_KEY = "danbao-tests-pseudonym-key-0001"
ROWS = 40


def closed_period_past_deadline() -> str:
    """The month before last: closed, and its deadline (the 15th of last month) has passed."""
    now = now_beijing()
    return str(Period(now.year, now.month).previous().previous())


@dataclass(frozen=True)
class Generated:
    """The same four guarantors and data, clean and broken in named ways (same seed, so same ids)."""

    period: str
    registry_csv: Path
    clean: list[Path]  # ZIPs: accepted
    folders: list[Path]  # package folders: accepted
    rejected: list[Path]  # SCH-003 errors: rejected
    warned: list[Path]  # BIZ-003 warnings: needs_confirmation

    def ids(self) -> list[str]:
        return [p.name.split("_")[0] for p in self.clean]


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    root = tmp_path_factory.mktemp("generated")
    period = closed_period_past_deadline()
    clean = generate_period(root / "clean", N_GUARANTORS, ROWS, period, zip=True)
    folders = generate_period(root / "folders", N_GUARANTORS, ROWS, period, zip=False)
    rejected = generate_period(root / "rejected", N_GUARANTORS, ROWS, period, inject_kinds=["bad_uscc"], zip=True)
    warned = generate_period(root / "warned", N_GUARANTORS, ROWS, period, inject_kinds=["guaranteed_over_loan"], zip=True)
    return Generated(period, root / "clean" / "registry.csv", clean, folders, rejected, warned)


@pytest.fixture(autouse=True)
def danbao_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every default path inside the test's folder; nothing from the developer's environment."""
    home = tmp_path / "home"
    monkeypatch.setenv("DANBAO_HOME", str(home))
    monkeypatch.setenv("DANBAO_RUN_LAYOUT", "per_submission")  # the asset graph run by run; test_batch.py batches
    monkeypatch.setenv("DANBAO_PBOC_SM4_KEY", "0123456789abcdef0123456789abcdef")  # sender and receivers alike
    monkeypatch.setenv("DANBAO_PSEUDONYM_KEY", TEST_PSEUDONYM_KEY)  # outside the demo, publishing needs one
    for name in ("DANBAO_DATABASE_URL", "DANBAO_BLOB_ROOT", "DANBAO_LANDING", "DANBAO_TABLES_URL",
                 "DANBAO_PULL_ENDPOINTS", "DANBAO_PULL_TOKEN", "DANBAO_DEADLINE_DAY", "DANBAO_FIRST_PERIOD",
                 "DANBAO_BATCH_SIZE", "DANBAO_VALIDATION_LEASE_SECONDS", "DANBAO_DATASETS_DIR", "DANBAO_ENGINE",
                 "DANBAO_CELERY_QUEUE", "DANBAO_CELERY_BROKER", "DANBAO_CELERY_BACKEND"):
        monkeypatch.delenv(name, raising=False)
    yield home
    dispose_engines()


@dataclass
class Pipeline:
    """The code location's definitions over a test's own store, folders and Dagster instance."""

    runner: InProcessRunner
    instance: DagsterInstance
    store: StoreResource
    landing: Path
    home: Path

    @property
    def defs(self):
        return self.runner.defs

    def drop(self, package: Path, name: str | None = None) -> Path:
        """Put a package into the landing folder as a finished upload."""
        target = self.landing / (name or package.name)
        if package.is_dir():
            shutil.copytree(package, target)
        else:
            shutil.copyfile(package, target)
        return target

    def submissions(self, **filters):
        with self.store.session() as session:
            return repo.list_submissions(session, **filters)

    def materialized(self, asset: str, partition_key: str) -> int:
        from dagster import AssetKey

        records = self.instance.fetch_materializations(AssetKey(asset), limit=1000).records
        return sum(1 for r in records if r.partition_key == partition_key)


def make_pipeline(home: Path, instance: DagsterInstance, registry_csv: Path | None, **resources) -> Pipeline:
    store = resources.pop("store", None) or StoreResource()
    pull = resources.pop("pull", None) or PullResource(max_attempts=3, backoff_seconds=0.01, read_timeout=2.0,
                                                        connect_timeout=1.0, workers=4)
    defs = build_defs({"store": store, "pull": pull, **resources})
    if registry_csv is not None:
        with store.session() as session:
            load_registry(session, registry_csv)
    landing = home / "landing"
    landing.mkdir(parents=True, exist_ok=True)
    return Pipeline(InProcessRunner(defs, instance), instance, store, landing, home)


@pytest.fixture
def pipeline(danbao_env: Path, generated: Generated) -> Iterator[Pipeline]:
    """On an in-memory instance: a SQLite-backed one spends most of a small run writing its event log."""
    yield make_pipeline(danbao_env, DagsterInstance.ephemeral(), generated.registry_csv)


@pytest.fixture
def persistent_pipeline(danbao_env: Path, generated: Generated) -> Iterator[Pipeline]:
    """On a SQLite-backed instance in a temporary DAGSTER_HOME, as `dagster dev` uses by default."""
    with instance_for_test() as instance:
        yield make_pipeline(danbao_env, instance, generated.registry_csv)


@pytest.fixture
def pg_database(pg_admin) -> Iterator[str]:
    """A fresh PostgreSQL database (URL), dropped afterwards."""
    with fresh_database(pg_admin, "danbao_p") as url:
        try:
            yield url
        finally:
            dispose_engines()  # the pipeline's pooled connections, before the database is dropped
