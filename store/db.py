"""Engines, sessions and migrations for the store.

SQLite (the default, for a developer's machine, the CLI and tests) and PostgreSQL (production) are
both first-class: the same migrations and the same repository code run on each.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from store.config import danbao_home, private_dir, private_file

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

#: How long a SQLite connection waits for another writer before failing with "database is locked".
SQLITE_BUSY_TIMEOUT_S = 30.0

# An arbitrary constant: the key of the PostgreSQL advisory lock that serialises concurrent migrate() calls.
_MIGRATE_LOCK_KEY = 0x64616E62616F  # "danbao"


def database_url() -> str:
    """``$DANBAO_DATABASE_URL``, else a SQLite file in ``$DANBAO_HOME`` (default ``./var``)."""
    url = os.environ.get("DANBAO_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{danbao_home() / 'danbao.db'}"


def normalise_url(url: str | URL) -> URL:
    """Map plain ``postgresql://`` (and ``postgres://``) URLs to the psycopg 3 driver.

    SQLAlchemy's default PostgreSQL driver is psycopg2, which the project does not install.
    """
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: str | URL | None = None, **kwargs: Any) -> Engine:
    """An engine for ``url`` (default :func:`database_url`), set up for the store's needs.

    On SQLite each connection gets foreign keys (off by default in SQLite), WAL (readers do not block
    the writer) and a busy timeout, and every transaction starts with ``BEGIN IMMEDIATE``: SQLite has a
    single writer, so taking the write lock up front makes read-then-write sequences (such as numbering
    a resubmission) serial instead of failing with "database is locked" when a read snapshot goes stale.
    It also replaces the ``sqlite3`` module's legacy transaction handling, under which DDL and
    SAVEPOINTs escape the enclosing transaction. The price: on SQLite a session holds the write lock
    from its first statement until it commits, rolls back or closes, so keep sessions short (and never
    wait in one thread on a second session). Extra ``kwargs`` go to ``create_engine``.
    """
    parsed = normalise_url(url if url is not None else database_url())
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            _private_sqlite_files(Path(database).expanduser())
        connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_S, **kwargs.pop("connect_args", {})}
        engine = create_engine(parsed, connect_args=connect_args, **kwargs)
        _install_sqlite_hooks(engine)
        return engine
    if backend == "postgresql":
        kwargs.setdefault("pool_pre_ping", True)
    return create_engine(parsed, **kwargs)


def _private_sqlite_files(database: Path) -> None:
    """The SQLite store readable by its owner only: the file is created 0600 before SQLite opens it
    (SQLite would make it 0644 less the umask), and SQLite gives its WAL, shared-memory and journal
    files the database file's mode. Existing files with looser modes are tightened."""
    private_dir(database.parent)
    private_file(database)
    for suffix in ("-wal", "-shm", "-journal"):
        sibling = database.with_name(database.name + suffix)
        if sibling.exists():
            private_file(sibling)


def _install_sqlite_hooks(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module; _on_begin emits BEGIN instead.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA journal_mode = WAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
            return
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to ``engine``.

    ``expire_on_commit=False`` because callers hand committed objects (a ``Submission`` just recorded)
    on to code that reads their attributes after the session is gone.
    """
    return sessionmaker(bind=engine, expire_on_commit=False)


def alembic_config() -> Config:
    """An Alembic configuration built in code, so that migrating needs no ``alembic.ini``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    return config


def migrate(engine_or_url: Engine | str | URL | None = None, revision: str = "head") -> None:
    """Bring the database up to ``revision`` (default: the newest), as ``alembic upgrade`` would.

    Runs in one transaction on the caller's engine (so SQLite gets the same connection hooks as the
    application), and on PostgreSQL under an advisory lock so that two processes starting together
    do not both try to create the tables.
    """
    owned = not isinstance(engine_or_url, Engine)
    engine = make_engine(engine_or_url) if owned else engine_or_url
    assert isinstance(engine, Engine)
    try:
        config = alembic_config()
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATE_LOCK_KEY})
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        if owned:
            engine.dispose()
