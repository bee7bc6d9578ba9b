"""What every request needs: the store (engine, sessions), the blob store, the published datasets.

One ``Portal`` per app, on ``app.state.portal``. Sessions are short: on SQLite a transaction holds the
single write lock from its first statement (``store.db.make_engine``), so no request keeps one open
while it validates a package or streams a download.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from connectors.datasets import DatasetStore
from store.blobs import BlobStore
from store.db import make_engine, migrate, session_factory
from web.settings import WebSettings


class Portal:
    def __init__(self, settings: WebSettings, engine: Engine | None = None) -> None:
        self.settings = settings
        self.engine = engine or make_engine(settings.database_url)
        self._sessions = session_factory(self.engine)
        self.blobs = BlobStore(settings.blob_root)
        self.datasets = DatasetStore(settings.datasets_dir)

    def migrate(self) -> None:
        migrate(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in a transaction: committed when the block ends, rolled back on an exception."""
        with self._sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def portal_of(request: Request) -> Portal:
    return request.app.state.portal
