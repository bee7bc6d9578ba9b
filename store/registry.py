"""The registry as the rule engine sees it: ``Institution`` objects read from the store."""

from __future__ import annotations

from sqlalchemy.orm import Session

from store.db import make_engine, session_factory
from store.repository import list_institutions
from validations.context import Institution


def registry_snapshot(session: Session) -> dict[str, Institution]:
    """institution_id → Institution for every registered guarantor (any status: FMT-006 needs them)."""
    return {row.institution_id: Institution.from_record(row) for row in list_institutions(session)}


def registry_from_store(url: str | None = None) -> dict[str, Institution]:
    """The registry of the configured store (``DANBAO_DATABASE_URL``, SQLite under DANBAO_HOME by default)."""
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            return registry_snapshot(session)
    finally:
        engine.dispose()
