"""Fixtures for the store: a migrated database on each backend, sessions, a blob store.

PostgreSQL tests run against ``$DANBAO_TEST_PG_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``),
each in a fresh database created for it and dropped afterwards. Without a reachable server they are
skipped, except under CI (``CI=true``), where a missing server is a failure, not a pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from store.blobs import BlobStore
from store.db import session_factory


@pytest.fixture(autouse=True)
def danbao_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep every default path of the store inside the test's own folder."""
    home = tmp_path / "home"
    monkeypatch.setenv("DANBAO_HOME", str(home))
    monkeypatch.delenv("DANBAO_DATABASE_URL", raising=False)
    return home


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with session_factory(engine)() as session:
        yield session


@pytest.fixture
def blob_store(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "blobs")
