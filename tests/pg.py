"""The PostgreSQL server the tests use: an admin engine, and a fresh database per test.

With ``CI=true`` an unreachable server fails the tests instead of skipping them.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from store.db import normalise_url

PG_ADMIN_URL = os.environ.get("DANBAO_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def admin_engine() -> Iterator[Engine]:
    """An AUTOCOMMIT engine on the server's ``test`` database; skip without a server, except under CI."""
    engine = create_engine(normalise_url(PG_ADMIN_URL), isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
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


@contextmanager
def fresh_database(admin: Engine, prefix: str = "danbao_t") -> Iterator[str]:
    """A new, empty database's URL; dropped (connections and all) afterwards."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield normalise_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
