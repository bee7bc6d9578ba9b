"""Fixtures for the store: a migrated database on each backend, sessions, a blob store.

PostgreSQL tests run against ``$DANBAO_TEST_PG_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``),
each in a fresh database created for it and dropped afterwards. Without a reachable server they are
skipped, except under CI (``CI=true``), where a missing server is a failure, not a pass.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from store.blobs import BlobStore
from store.db import make_engine, migrate, session_factory
from tests.pg import fresh_database
from tests.store.backends import BACKENDS


@pytest.fixture(autouse=True)
def danbao_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep every default path of the store inside the test's own folder."""
    home = tmp_path / "home"
    monkeypatch.setenv("DANBAO_HOME", str(home))
    monkeypatch.delenv("DANBAO_DATABASE_URL", raising=False)
    return home


def _url_for(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    admin: Engine = request.getfixturevalue("pg_admin")
    with fresh_database(admin, "danbao_t") as url:
        yield url


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL on each backend, with nothing in it yet."""
    yield from _url_for(request.param, request, tmp_path)


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once, copied for each test: as fresh as migrating anew, and cheaper
    (migrating an empty database is itself tested, in test_db.py)."""
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
def session(engine: Engine) -> Iterator[Session]:
    with session_factory(engine)() as session:
        yield session


@pytest.fixture
def blob_store(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "blobs")
