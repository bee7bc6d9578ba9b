"""Fixtures for the portal: a real uvicorn server on a free loopback port over a fresh store (SQLite,
and PostgreSQL where a test module asks for both), tokens for two guarantors, a regulator and an admin,
published datasets to chart, and fresh packages.

PostgreSQL runs against ``$DANBAO_TEST_PG_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``) in
a database made for the module; without a server it is skipped, except under CI (``CI=true``), where
that is a failure.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import itertools
import json
import secrets
import socket
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import uvicorn

from connectors.datasets import DatasetStore
from connectors.datasets.tables import grades_table
from connectors.intake import IntakeLimits, read_package
from connectors.registry import read_registry_csv
from connectors.synthetic import generate_period
from filings.datasets import publish_datasets
from filings.intake import load_registry
from store import portal as store_portal
from store.models import ApiToken, AuditEvent, Submission, utcnow
from tests.packages import GOV_ID, REGISTRY_CSV, SAMPLES, Package
from tests.pg import fresh_database
from validations.engine import validate
from web.app import create_app
from web.server import ServerLimits, uvicorn_config
from web.settings import WebSettings

OTHER_ID = "915001133H3C325718"  # the samples' commercial guarantor: guarantor B of these tests
PERIOD = "2026-10"
PUBLISHED_PERIODS = ("2026-08", "2026-09", "2026-10")
MAX_UPLOAD = 1 << 20
PSEUDONYM_KEY = b"portal-test-key-0123456789abcdef"
BANK_LENDER = "C4025000100"  # a lender of the synthetic ledgers (connectors.synthetic.guarantees.LENDERS)
OTHER_LENDER = "C1045000100"  # another bank's
SCREENSHOTS = Path(__file__).resolve().parents[1] / "screenshots"
_UNIQUE = itertools.count(1)


@dataclass
class Live:
    """A running portal and the tokens to talk to it."""

    url: str
    app: object
    tokens: dict[str, str]  # name → secret: a, b (guarantors), bank, bank2 (lenders), regulator, admin, expired, revoked
    token_ids: dict[str, int]
    blob_root: Path
    backend: str

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def get(self, path: str, who: str | None = None, **kwargs) -> requests.Response:
        return requests.get(self.url + path, headers=self.headers(who) if who else None, timeout=30, **kwargs)

    def post(self, path: str, who: str | None = None, **kwargs) -> requests.Response:
        headers = {**(self.headers(who) if who else {}), **kwargs.pop("headers", {})}
        return requests.post(self.url + path, headers=headers, timeout=60, **kwargs)

    def upload(self, data: bytes, who: str = "a", **kwargs) -> requests.Response:
        return self.post("/api/submissions", who, data=data, headers={"Content-Type": "application/zip"}, **kwargs)

    @property
    def portal(self):
        return self.app.state.portal

    def counts(self) -> tuple[int, int]:
        """(submissions, blob files): what an upload stores."""
        from sqlalchemy import func, select

        with self.portal.session() as session:
            n = session.scalar(select(func.count()).select_from(Submission)) or 0
        blobs = sum(1 for p in self.blob_root.rglob("*") if p.is_file()) if self.blob_root.exists() else 0
        return n, blobs

    def audit(self, limit: int = 20) -> list[AuditEvent]:
        with self.portal.session() as session:
            return store_portal.list_audit(session, limit=limit)

    def login(self, who: str) -> requests.Session:
        """A browser-like session logged in with ``who``'s token through the login form."""
        session = requests.Session()
        page = session.get(self.url + "/login", timeout=30)
        response = session.post(self.url + "/login", data={"token": self.tokens[who], "csrf_token": csrf_of(page.text)},
                                timeout=30)
        assert response.status_code == 200, response.text[:500]
        return session


def csrf_of(html: str) -> str:
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start:html.index('"', start)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- packages -------------------------------------------------------------------------------------


def zip_folder(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for member in sorted(folder.iterdir()):
            archive.write(member, member.name)
    return buffer.getvalue()


def fresh_package(tmp_path: Path, sample: str = "valid-2026-10") -> Package:
    """A copy of a sample whose bytes no earlier test filed (its ``submitted_at`` differs), so that it
    becomes a new submission rather than a duplicate of one."""
    n = next(_UNIQUE)
    pkg = Package.copy(tmp_path, sample, name=f"pkg{n}-{secrets.token_hex(3)}")
    manifest = pkg.manifest
    moment = dt.datetime(2026, 11, 6, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8))) + dt.timedelta(seconds=n)
    manifest["submitted_at"] = moment.isoformat()
    pkg.write_manifest(manifest)
    return pkg


def fresh_zip(tmp_path: Path, sample: str = "valid-2026-10") -> bytes:
    return zip_folder(fresh_package(tmp_path, sample).root)


# -- published datasets ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Published:
    root: Path
    registry_csv: Path
    ids: list[str]
    late: tuple[str, str]  # (institution_id, period) recorded as a late filer


@pytest.fixture(scope="session")
def published(tmp_path_factory: pytest.TempPathFactory) -> Published:
    """Three synthetic guarantors over three periods plus guarantor A's sample for the last one,
    published as the pipeline publishes them (``connectors.datasets.tables``)."""
    base = tmp_path_factory.mktemp("published")
    store = DatasetStore(base / "datasets")
    registry_csv = base / "synthetic" / PUBLISHED_PERIODS[0] / "registry.csv"
    ids: list[str] = []
    late = ("", PUBLISHED_PERIODS[1])
    sid = itertools.count(1000)
    for period in PUBLISHED_PERIODS:
        packages = generate_period(base / "synthetic" / period, 3, 30, period, seed=7)
        registry = read_registry_csv(base / "synthetic" / period / "registry.csv")
        ids = list(registry)
        for i, path in enumerate(packages):
            institution_id = ids[i]
            if period == late[1] and i == 2:
                late = (institution_id, period)
                store.write("grades", period, grades_table(institution_id, period, "D", "监管约谈", "supervisory talk",
                                                           ["NO_FILING"], None, True), institution_id=institution_id)
                continue
            _publish(store, validate(read_package(path), registry), next(sid))
    sample = validate(read_package(SAMPLES / "valid-2026-10"), read_registry_csv(REGISTRY_CSV))
    _publish(store, sample, next(sid))
    return Published(base / "datasets", registry_csv, ids, late)


def _publish(store: DatasetStore, checked, submission_id: int) -> None:
    """As the pipeline publishes an accepted filing's datasets (``filings.datasets``)."""
    from validations.results import AcceptedFiling

    publish_datasets(store, PSEUDONYM_KEY, AcceptedFiling.of(checked, submission_id=submission_id, sequence=1,
                                                             period=checked.period, accepted_at=None))


# -- the server -----------------------------------------------------------------------------------


def _database(backend: str, request: pytest.FixtureRequest, folder: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'portal.db'}"
        return
    admin = request.getfixturevalue("pg_admin")
    with fresh_database(admin, "danbao_w") as url:
        yield url


def start_live(request: pytest.FixtureRequest, folder: Path, published: Published, backend: str, *,
               inline_validation: bool = True, limits: ServerLimits | None = None) -> Iterator[Live]:
    """The portal served as ``danbao serve`` serves it (``web.server.uvicorn_config``), on a free port."""
    for url in _database(backend, request, folder):
        settings = WebSettings(
            database_url=url,
            blob_root=folder / "blobs",
            datasets_dir=published.root,
            tables_url=str(folder / "tables"),
            secret=secrets.token_bytes(32),
            max_upload_bytes=MAX_UPLOAD,
            inline_validation=inline_validation,
            limits=IntakeLimits(max_members=16),
            datadocs_dir=folder / "datadocs",
        )
        app = create_app(settings)
        tokens, token_ids = {}, {}
        with app.state.portal.session() as session:
            load_registry(session, REGISTRY_CSV)
            load_registry(session, published.registry_csv)
            for name, role, institution, lender in (
                    ("a", "guarantor", GOV_ID, None), ("b", "guarantor", OTHER_ID, None),
                    ("bank", "bank", None, BANK_LENDER), ("bank2", "bank", None, OTHER_LENDER),
                    ("regulator", "regulator", None, None), ("admin", "admin", None, None),
                    ("expired", "guarantor", GOV_ID, None), ("revoked", "guarantor", GOV_ID, None)):
                token, secret = store_portal.create_token(session, role, institution_id=institution, lender_code=lender,
                                                          label=f"test {name}")
                tokens[name], token_ids[name] = secret, token.id
            session.get(ApiToken, token_ids["expired"]).expires_at = utcnow() - dt.timedelta(minutes=1)
            store_portal.revoke_token(session, token_ids["revoked"])
        port = free_port()
        server = uvicorn.Server(uvicorn_config(app, host="127.0.0.1", port=port, limits=limits, log_level="warning",
                                               lifespan="off"))
        thread = threading.Thread(target=server.run, name=f"portal-{backend}", daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the portal did not start")
            time.sleep(0.02)
        try:
            yield Live(f"http://127.0.0.1:{port}", app, tokens, token_ids, folder / "blobs", backend)
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            app.state.portal.dispose()


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="module", params=BACKENDS)
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, published: Published) -> Iterator[Live]:
    """The portal on each backend."""
    yield from start_live(request, tmp_path_factory.mktemp(f"portal-{request.param}"), published, request.param)


@pytest.fixture(scope="module")
def live_sqlite(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                published: Published) -> Iterator[Live]:
    """The portal on SQLite only (behaviour that cannot differ between backends)."""
    yield from start_live(request, tmp_path_factory.mktemp("portal-sqlite"), published, "sqlite")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def as_json(response: requests.Response) -> dict:
    try:
        return response.json()
    except json.JSONDecodeError:
        raise AssertionError(f"not JSON ({response.status_code}): {response.text[:300]}") from None
