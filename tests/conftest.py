"""Shared fixtures: the registry of the worked examples and a writable copy of a sample package."""

from __future__ import annotations

import pytest

from tests.packages import Package, registry


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
