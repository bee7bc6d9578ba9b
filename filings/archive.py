"""Where the result archive is, when no door says otherwise: ``$DANBAO_TABLES_URL`` (any fsspec URL),
else ``$DANBAO_HOME/tables``. The Dagster resource and the portal's settings default to the same."""

from __future__ import annotations

from connectors.archive import FilingArchive
from filings.settings import load


def default_tables_url() -> str:
    return load().tables()


def default_archive() -> FilingArchive:
    return FilingArchive(default_tables_url())
