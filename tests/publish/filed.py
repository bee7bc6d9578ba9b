"""A store holding accepted filings made the way the pipeline makes them: generated packages, received
into the blob store and validated by the rule engine."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from connectors.archive import FilingArchive
from connectors.synthetic import generate_period
from filings.confirmation import confirm_submission
from filings.intake import load_registry, receive_package
from filings.validation import validate_submission
from store.blobs import BlobStore
from store.db import make_engine, session_factory
from validations.context import Period, now_beijing


def closed_period() -> str:
    """The month before last: closed whenever the tests run."""
    now = now_beijing()
    return str(Period(now.year, now.month).previous().previous())


@dataclass(frozen=True)
class Filed:
    url: str
    blob_root: Path
    tables_url: str  # the result archive the packages were validated into
    period: str
    institution_ids: list[str]


def file_packages(url: str, root: Path, guarantors: int, rows: int, period: str | None = None, seed: int = 0) -> Filed:
    period = period or closed_period()
    packages = generate_period(root / "packages", guarantors, rows, period, seed=seed)
    blobs = BlobStore(root / "blobs")
    engine = make_engine(url)
    try:
        factory = session_factory(engine)
        with factory() as session, session.begin():
            load_registry(session, root / "packages" / "registry.csv")
        ids = []
        archive = FilingArchive(root / "tables")

        def transaction():
            return _transaction(factory)

        for package in packages:
            with factory() as session, session.begin():
                receipt = receive_package(session, blobs, package, "cli")
            result = validate_submission(transaction, blobs, archive, receipt.submission.id).result
            assert str(result.status) != "rejected", result.findings.to_pylist()[:3]
            if str(result.status) == "needs_confirmation":  # small random filings can carry warnings
                with factory() as session, session.begin():
                    confirm_submission(session, receipt.submission.id)
            ids.append(receipt.submission.institution_id)
    finally:
        engine.dispose()
    return Filed(url, root / "blobs", str(root / "tables"), period, ids)


@contextmanager
def _transaction(factory):
    with factory() as session, session.begin():
        yield session
