"""Fixtures for publication: a migrated store on SQLite and PostgreSQL (as ``tests/store``: with
``CI=true`` a missing PostgreSQL server fails instead of skipping), the reference receivers on
loopback, signing keys."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from connectors.publish.signing import SigningKeys
from connectors.receivers import Faults, Receivers
from store.blobs import BlobStore
from store.db import session_factory
from tests.publish.helpers import DEPLOYMENT_KEY, GUARANTOR, GUARANTOR_KEY, SM4_KEY


@pytest.fixture(autouse=True)
def danbao_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("DANBAO_HOME", str(home))
    for name in ("DANBAO_DATABASE_URL", "DANBAO_BLOB_ROOT", "DANBAO_TABLES_URL", "DANBAO_PBOC_URL", "DANBAO_CBRC_URL"):
        monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):
        if name.startswith(("DANBAO_SIGNING_KEY", "DANBAO_SM2_", "DANBAO_PBOC_", "DANBAO_SIGNATURE")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DANBAO_PBOC_SM4_KEY", SM4_KEY)
    return home


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture
def blobs(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "blobs")


@pytest.fixture
def keys() -> SigningKeys:
    return SigningKeys.of(DEPLOYMENT_KEY, **{GUARANTOR: GUARANTOR_KEY})


@pytest.fixture
def receivers(tmp_path: Path, keys: SigningKeys) -> Iterator[Receivers]:
    with Receivers(tmp_path / "receivers", keys=keys) as running:
        yield running


@pytest.fixture
def make_receivers(tmp_path: Path, keys: SigningKeys) -> Iterator:
    """Receivers with faults: ``make_receivers(Faults(...))``."""
    started: list[Receivers] = []

    def make(faults: Faults, name: str = "faulty") -> Receivers:
        running = Receivers(tmp_path / name, keys=keys, faults=faults).start()
        started.append(running)
        return running

    yield make
    for running in started:
        running.stop()
