"""Which backends a store test runs on.

Every PostgreSQL test costs a fresh database, so tests whose behaviour cannot differ between
backends (argument checks done in Python) run on SQLite only.
"""

from __future__ import annotations

import pytest

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]

#: Run a test that uses ``store_url`` (or ``engine``/``session``) on SQLite only.
sqlite_only = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)

#: Run a test that uses ``store_url`` on PostgreSQL only.
postgresql_only = pytest.mark.parametrize(
    "store_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
