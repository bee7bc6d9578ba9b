"""Resources: the store, the landing folder, the guarantor endpoints, the table archive.

Each is a ``ConfigurableResource`` configured from the environment (``EnvVar``, so secrets such as a
PostgreSQL URL or a bearer token never appear in code or in the UI). Nothing here touches a file, a
database or the network until a run, sensor or schedule uses it: loading the code location does no I/O.
"""


import csv
import hashlib
import hmac
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dagster import Config, ConfigurableResource, EnvVar
from pydantic import Field
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from connectors.archive import FilingArchive
from connectors.datasets import DatasetStore, pseudonym_key
from connectors.datasets.pseudonymise import MissingKeyError
from connectors.intake.landing import is_remote
from connectors.intake.pull import EtagCache, PullClient
from filings.secrets import local_pseudonym_key_file
from filings.settings import load
from pipelines.settings import DEMO_MARKER
from store.blobs import BlobStore
from store.config import danbao_home

_ENGINES: dict[str, Engine] = {}
_MIGRATED: set[str] = set()
_ENGINE_LOCK = threading.Lock()
#: A deadline-day burst (4,000 guarantors) in one tick; the time budget is what really bounds a tick.
DEFAULT_MAX_PER_TICK = 5000
#: Well under Dagster's 60 s sensor evaluation timeout (DAGSTER_SENSOR_GRPC_TIMEOUT_SECONDS), leaving
#: room for planning the runs after receiving.
DEFAULT_TICK_BUDGET_S = 40.0
DEFAULT_RECEIVE_WORKERS = 8


class StoreResource(ConfigurableResource):
    """The transactional store (registry, submissions, findings) and the blob store of filed packages."""

    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default $DANBAO_DATABASE_URL, else SQLite in $DANBAO_HOME (./var).",
    )
    blob_root: str | None = Field(default=None,
                                  description="Blob folder or fsspec URL (s3://…); default $DANBAO_HOME/blobs.")
    auto_migrate: bool = Field(default=True, description="Bring the schema to head on first use in a process.")

    def url(self) -> str:
        from store.db import database_url

        return _value(self.database_url) or database_url()

    def engine(self) -> Engine:
        """One engine per URL and process (runs in one process share its pool)."""
        from store.db import make_engine, migrate

        url = self.url()
        with _ENGINE_LOCK:
            engine = _ENGINES.get(url)
            if engine is None:
                engine = _ENGINES[url] = make_engine(url)
            if self.auto_migrate and url not in _MIGRATED:
                migrate(engine)
                _MIGRATED.add(url)
        return engine

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in a transaction: committed when the block ends, rolled back on an exception."""
        from store.db import session_factory

        with session_factory(self.engine())() as session, session.begin():
            yield session

    def blobs(self) -> BlobStore:
        return BlobStore(_value(self.blob_root) or None)

    def blob_location(self) -> str:
        """The blob folder as an absolute path, or its URL, without creating anything."""
        return absolute_location(_value(self.blob_root)) if _value(self.blob_root) else str(danbao_home() / "blobs")


def dispose_engines() -> None:
    """Close every pooled connection (tests that drop their database, long-lived processes)."""
    with _ENGINE_LOCK:
        for engine in _ENGINES.values():
            engine.dispose()
        _ENGINES.clear()
        _MIGRATED.clear()


class LandingResource(ConfigurableResource):
    """The landing folder the intake sensor watches: a local folder or any fsspec URL (``s3://…``)."""

    path: str | None = Field(default=None, description="Folder or fsspec URL; default $DANBAO_HOME/landing.")
    stale_after_seconds: float = Field(
        default=3600.0, description="Pick up an incomplete but untouched package after this long, to report it."
    )
    max_per_tick: int = Field(
        default=DEFAULT_MAX_PER_TICK,
        description="Packages picked up per sensor tick at most (a deadline-day burst of 4,000 fits in one).",
    )
    tick_budget_seconds: float = Field(
        default=DEFAULT_TICK_BUDGET_S,
        description=("Seconds a tick spends scanning and receiving at most (the sensor's evaluation times out at "
                     "60 s); what is left is picked up first by the next tick, from the cursor."),
    )
    receive_workers: int = Field(
        default=DEFAULT_RECEIVE_WORKERS,
        description="Threads receiving packages side by side (receiving waits on fsync and commits, not CPU).",
    )

    def root(self) -> Path | str:
        """The landing folder (created when local), or its URL as given."""
        if _value(self.path) and is_remote(_value(self.path)):
            return str(_value(self.path))
        root = Path(_value(self.path).removeprefix("file://")).expanduser().resolve() if _value(self.path) \
            else danbao_home() / "landing"
        root.mkdir(parents=True, exist_ok=True)
        return root


@dataclass(frozen=True)
class Endpoint:
    """Where a guarantor publishes its packages. ``url`` may hold ``{period}`` and ``{institution_id}``."""

    institution_id: str
    url: str
    token: str | None

    def url_for(self, period: str) -> str:
        return self.url.replace("{period}", period).replace("{institution_id}", self.institution_id)


class PullResource(ConfigurableResource):
    """The guarantors' own endpoints (the registry's ``pull_url``, or an endpoints file) and how to poll them."""

    endpoints_file: str | None = Field(
        default=None, description="CSV with institution_id,url[,token_env]; adds to or overrides registry URLs."
    )
    token: str | None = Field(default=None, description="Bearer token for endpoints without their own.")
    connect_timeout: float = 5.0
    read_timeout: float = 60.0
    max_attempts: int = 4
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 60.0
    workers: int = Field(default=8, description="Endpoints fetched in parallel.")
    state_file: str | None = Field(default=None, description="ETag cache; default $DANBAO_HOME/pull/etags.json.")

    def endpoints(self, registry_urls: dict[str, str | None]) -> list[Endpoint]:
        """Registry URLs (active guarantors) merged with the endpoints file, which wins."""
        urls: dict[str, tuple[str, str | None]] = {
            institution_id: (url, _value(self.token)) for institution_id, url in registry_urls.items() if url
        }
        if _value(self.endpoints_file):
            with open(_value(self.endpoints_file), encoding="utf-8-sig", newline="") as handle:
                for row in csv.DictReader(handle):
                    institution_id, url = (row.get("institution_id") or "").strip(), (row.get("url") or "").strip()
                    if not institution_id or not url:
                        continue
                    token_env = (row.get("token_env") or "").strip()
                    urls[institution_id] = (url, os.environ.get(token_env) if token_env else _value(self.token))
        return [Endpoint(i, url, token) for i, (url, token) in sorted(urls.items())]

    def client(self, **overrides: Any) -> PullClient:
        return PullClient(
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            max_attempts=self.max_attempts,
            backoff=self.backoff_seconds,
            max_backoff=self.max_backoff_seconds,
            **overrides,
        )

    def etags(self) -> EtagCache:
        return EtagCache(_value(self.state_file) or danbao_home() / "pull" / "etags.json")


class ArchiveResource(ConfigurableResource):
    """Where the Parquet tables live: a local folder by default, any fsspec URL (s3://, gs://, …) in production."""

    url: str | None = Field(default=None, description="Folder or fsspec URL; default $DANBAO_HOME/tables.")

    def archive(self) -> FilingArchive:
        return FilingArchive(self.location())

    def location(self) -> str:
        """The archive's URL, or its folder as an absolute path (nothing is created)."""
        return absolute_location(_value(self.url)) if _value(self.url) else str(danbao_home() / "tables")


class DatasetsResource(ConfigurableResource):
    """The published datasets (outputs.md §2) and the key that pseudonymises resident IDs in them."""

    root: str | None = Field(default=None,
                             description="Folder or fsspec URL; default $DANBAO_DATASETS_DIR or $DANBAO_HOME/datasets.")
    pseudonym_key: str | None = Field(default=None, description="Keyed-hash secret; from DANBAO_PSEUDONYM_KEY.")

    def store(self) -> DatasetStore:
        return DatasetStore(self.location())

    def location(self) -> str:
        root = _value(self.root) or load().datasets_dir
        return absolute_location(str(root)) if root else str(danbao_home() / "datasets")

    def key(self) -> bytes:
        """The key every process must share: ``DANBAO_PSEUDONYM_KEY``. Only in the embedded demo's
        ``DANBAO_HOME`` (``make demo`` marks it) is a random local key created instead: anywhere else each
        worker would make its own, and the same person would get a different pseudonym per worker."""
        if _value(self.pseudonym_key):
            if len(_value(self.pseudonym_key)) < 16:
                raise MissingKeyError("DANBAO_PSEUDONYM_KEY must be at least 16 characters")
            return _value(self.pseudonym_key).encode()
        home = danbao_home()
        if load().pseudonym_key is not None or not (home / DEMO_MARKER).is_file():
            return pseudonym_key(None)  # the environment's key, or MissingKeyError
        return pseudonym_key(local_pseudonym_key_file())


def env_var(name: str) -> EnvVar | None:
    """``EnvVar(name)`` when the variable is set (resolved at run time, shown by name in the UI), else None."""
    return EnvVar(name) if os.environ.get(name) else None


def absolute_location(location: str) -> str:
    """A URL as given (``s3://…``, ``memory://…``), a local path made absolute (a worker's working
    folder must not change where a run writes)."""
    if "://" in location and not location.startswith("file://"):
        return location
    return str(Path(location.removeprefix("file://")).expanduser().resolve())


def key_id(key: bytes) -> str:
    """A public fingerprint of the pseudonym key (HMAC of a fixed text): equal keys, equal ids; the id
    tells nothing about the key."""
    return hmac.new(key, b"danbao pseudonym key id", hashlib.sha256).hexdigest()[:16]


def redacted_url(url: str) -> str:
    """A database URL with its password replaced by ``***`` (what a run may carry and the UI may show)."""
    from sqlalchemy import make_url

    return make_url(url).render_as_string(hide_password=True)


class RunSettings(Config):
    """Where a batch run's data lives, resolved by the process that planned it (the intake sensor) and
    carried in the run's config, so that every worker, whatever its own environment, works on the same
    store and storage. Nothing secret: the database URL without its password, the key's fingerprint."""

    database: str = Field(description="The store's URL, password hidden: the worker's own URL must match it.")
    blob_root: str = Field(description="Blob folder (absolute) or fsspec URL, shared by every worker.")
    tables_url: str = Field(description="The table archive: an absolute folder or an fsspec URL.")
    datasets_root: str = Field(description="The published datasets: an absolute folder or an fsspec URL.")
    pseudonym_key_id: str = Field(description="Fingerprint of DANBAO_PSEUDONYM_KEY: the worker's key must match it.")


class SettingsMismatch(RuntimeError):
    pass


def run_settings(store: StoreResource, archive: ArchiveResource, datasets: DatasetsResource) -> RunSettings:
    """The settings a run carries, from this process's resources (no I/O but reading a local demo key)."""
    return RunSettings(database=redacted_url(store.url()), blob_root=store.blob_location(),
                       tables_url=archive.location(), datasets_root=datasets.location(),
                       pseudonym_key_id=key_id(datasets.key()))


def check_run_settings(expected: RunSettings, store: StoreResource, key: bytes) -> None:
    """Refuse (``SettingsMismatch``) when this process's secrets are not those of the run's store and key:
    a worker started for another store or with another key must not touch this run's submissions."""
    own = redacted_url(store.url())
    if own != expected.database:
        raise SettingsMismatch(f"this worker's store is {own}, the run's is {expected.database}: refusing to run "
                               "(set DANBAO_DATABASE_URL on the worker to the run's store)")
    if key_id(key) != expected.pseudonym_key_id:
        raise SettingsMismatch("this worker's DANBAO_PSEUDONYM_KEY is not the run's (fingerprints "
                               f"{key_id(key)} and {expected.pseudonym_key_id}): refusing to run")


def _value(field: str | None) -> str | None:
    """A field's value: an ``EnvVar`` Dagster has not resolved (the resource called outside a run, sensor or
    schedule: ``danbao run``, ``danbao late``, scripts) is read from the environment here; Dagster resolves
    it itself for runs. Without this the variable's *name* was used as its value (a PostgreSQL URL of
    ``DANBAO_DATABASE_URL``)."""
    if isinstance(field, EnvVar):
        return field.get_value() or None
    return field or None
