"""Where the result archive is, when no door says otherwise: ``$DANBAO_TABLES_URL`` (any fsspec URL),
else ``$DANBAO_HOME/tables``. The Dagster resource and the portal's settings default to the same."""

from __future__ import annotations

import os

from connectors.archive import FilingArchive
from store.config import danbao_home


def default_tables_url() -> str:
    return os.environ.get("DANBAO_TABLES_URL") or str(danbao_home() / "tables")


def default_archive() -> FilingArchive:
    return FilingArchive(default_tables_url())
