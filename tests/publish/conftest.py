"""Fixtures for publication: a migrated store on SQLite and PostgreSQL (as ``tests/store``: with
``CI=true`` a missing PostgreSQL server fails instead of skipping), the reference receivers on
loopback, signing keys."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from connectors.publish.signing import SigningKeys
from connectors.receivers import Faults, Receivers
from store.blobs import BlobStore
from store.db import make_engine, migrate, normalise_url, session_factory
from tests.publish.helpers import DEPLOYMENT_KEY, GUARANTOR, GUARANTOR_KEY
from tests.store.backends import BACKENDS

PG_ADMIN_URL = os.environ.get("DANBAO_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(autouse=True)
def danbao_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("DANBAO_HOME", str(home))
    for name in ("DANBAO_DATABASE_URL", "DANBAO_BLOB_ROOT", "DANBAO_PBOC_URL", "DANBAO_CBRC_URL"):
        monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):
        if name.startswith("DANBAO_SIGNING_KEY"):
            monkeypatch.delenv(name)
    return home


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[Engine]:
    engine = create_engine(normalise_url(PG_ADMIN_URL), isolation_level="AUTOCOMMIT",
                           connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        engine.dispose()
        message = f"PostgreSQL unreachable at {PG_ADMIN_URL}: {exc.orig}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    yield engine
    engine.dispose()


def _url_for(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    admin: Engine = request.getfixturevalue("pg_admin")
    name = f"danbao_p_{secrets.token_hex(6)}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield normalise_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from _url_for(request.param, request, tmp_path)


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("migrated") / "store.db"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database on each backend, migrated to head."""
    if request.param == "sqlite":
        path = tmp_path / "store.db"
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), path)
        yield f"sqlite:///{path}"
        return
    for url in _url_for(request.param, request, tmp_path):
        migrate(url)
        yield url


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    engine = make_engine(store_url)
    yield engine
    engine.dispose()


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture
def blobs(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "blobs")


@pytest.fixture
def keys() -> SigningKeys:
    return SigningKeys.of(DEPLOYMENT_KEY, **{GUARANTOR: GUARANTOR_KEY})


@pytest.fixture
def receivers(tmp_path: Path, keys: SigningKeys) -> Iterator[Receivers]:
    with Receivers(tmp_path / "receivers", keys=keys) as running:
        yield running


@pytest.fixture
def make_receivers(tmp_path: Path, keys: SigningKeys) -> Iterator:
    """Receivers with faults: ``make_receivers(Faults(...))``."""
    started: list[Receivers] = []

    def make(faults: Faults, name: str = "faulty") -> Receivers:
        running = Receivers(tmp_path / name, keys=keys, faults=faults).start()
        started.append(running)
        return running

    yield make
    for running in started:
        running.stop()
