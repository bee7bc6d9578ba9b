"""Shared synthetic tables: generated once per session, since every test only reads them."""

from __future__ import annotations

import pyarrow as pa
import pytest

from connectors.registry import read_registry_csv
from connectors.synthetic import make_registry, write_registry_csv
from tests.synthetic.helpers import filing
from validations.context import Institution


@pytest.fixture(scope="session")
def big() -> dict[str, pa.Table]:
    """20,000 rows of a government guarantor: the table the invariants are checked on."""
    return filing(20_000, seed=3)


@pytest.fixture(scope="session")
def registry_table() -> pa.Table:
    return make_registry(3, seed=1)


@pytest.fixture(scope="session")
def registry(registry_table, tmp_path_factory) -> dict[str, Institution]:
    """The synthetic registry as the engine reads it (through connectors.registry)."""
    path = write_registry_csv(registry_table, tmp_path_factory.mktemp("registry") / "registry.csv")
    return read_registry_csv(path)
