"""Engines, URLs and migrations, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from store.db import alembic_config, database_url, make_engine, migrate, normalise_url
from store.models import Base

TABLES = {"institutions", "submissions", "findings", "late_filings"}


def test_database_url_defaults_to_sqlite_in_danbao_home(danbao_home: Path) -> None:
    url = database_url()
    assert url == f"sqlite:///{danbao_home.resolve() / 'danbao.db'}"
    assert danbao_home.is_dir()


def test_database_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DANBAO_DATABASE_URL", "postgresql://u@db.example/danbao")
    assert database_url() == "postgresql://u@db.example/danbao"


@pytest.mark.parametrize("url", ["postgresql://u:p@h:5433/d", "postgres://u:p@h:5433/d"])
def test_postgresql_urls_use_psycopg3(url: str) -> None:
    assert normalise_url(url).drivername == "postgresql+psycopg"
    engine = make_engine(url)  # no connection is made
    assert engine.dialect.driver == "psycopg"
    assert (engine.url.host, engine.url.port, engine.url.database) == ("h", 5433, "d")
    engine.dispose()


def test_sqlite_connections_enforce_foreign_keys_and_use_wal(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'nested' / 'x.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()


def test_sqlite_savepoint_rollback_stays_inside_the_transaction(tmp_path: Path) -> None:
    """The sqlite3 module's legacy mode lets a SAVEPOINT escape the transaction; make_engine must not."""
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    with engine.connect() as connection:
        with connection.begin():
            with connection.begin_nested():
                connection.exec_driver_sql("INSERT INTO t VALUES (1)")
            nested = connection.begin_nested()
            connection.exec_driver_sql("INSERT INTO t VALUES (2)")
            nested.rollback()
            connection.rollback()
        assert connection.exec_driver_sql("SELECT count(*) FROM t").scalar() == 0
    engine.dispose()


def test_migrations_on_each_backend(empty_url: str) -> None:
    """Upgrade creates the models' schema (constraint names included), is idempotent, and downgrades."""
    migrate(empty_url)
    migrate(empty_url)  # a second run is a no-op
    engine = make_engine(empty_url)
    try:
        inspector = inspect(engine)
        assert set(inspector.get_table_names()) >= TABLES
        with engine.connect() as connection:
            head = ScriptDirectory.from_config(alembic_config()).get_current_head()
            assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == head
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
        assert {uc["name"] for uc in inspector.get_unique_constraints("submissions")} == {
            "uq_submissions_institution_id_period_sequence"
        }
        assert {c["name"] for c in inspector.get_check_constraints("submissions")} == {
            "ck_submissions_submission_source",
            "ck_submissions_submission_state",
        }
        assert inspector.get_foreign_keys("submissions") == []  # unknown guarantors are recorded too
        assert [fk["referred_table"] for fk in inspector.get_foreign_keys("findings")] == ["submissions"]

        config = alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
        assert not TABLES & set(inspect(engine).get_table_names())
        migrate(engine)
        assert set(inspect(engine).get_table_names()) >= TABLES
    finally:
        engine.dispose()
