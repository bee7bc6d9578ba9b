"""Shared fixtures: the worked examples (registry, a writable sample package), the PostgreSQL server,
and the store on each backend."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.packages import Package, registry
from tests.store.backends import BACKENDS


@pytest.fixture(scope="session")
def sample_registry():
    return registry()


@pytest.fixture
def pkg(tmp_path) -> Package:
    return Package.copy(tmp_path)


@pytest.fixture(scope="session")
def pg_admin():
    """The PostgreSQL server's admin engine (tests/pg.py): skipped without a server, except under CI."""
    from tests.pg import admin_engine

    yield from admin_engine()


# -- the store on each backend (SQLite and PostgreSQL), for the store's and the outbox's tests --------


def _url_for(backend: str, request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    from tests.pg import fresh_database

    with fresh_database(request.getfixturevalue("pg_admin"), "danbao_t") as url:
        yield url


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A database URL on each backend, with nothing in it yet."""
    yield from _url_for(request.param, request, tmp_path)


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory):
    """A SQLite file migrated once, copied for each test: as fresh as migrating anew, and cheaper
    (migrating an empty database is itself tested, in tests/store/test_db.py)."""
    from store.db import migrate

    path = tmp_path_factory.mktemp("migrated") / "store.db"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A fresh database on each backend, migrated to head."""
    from store.db import migrate

    if request.param == "sqlite":
        path = tmp_path / "store.db"
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), path)
        yield f"sqlite:///{path}"
        return
    for url in _url_for(request.param, request, tmp_path):
        migrate(url)
        yield url


@pytest.fixture
def engine(store_url: str):
    from store.db import make_engine

    engine = make_engine(store_url)
    yield engine
    engine.dispose()
