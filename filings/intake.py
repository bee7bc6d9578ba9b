"""Receiving a package, whatever the door (landing folder, pull, upload, CLI).

Order matters and is the point of this module: a package's bytes go into the blob store first (byte
for byte, content-addressed), then the submission is recorded with its sequence number, and only then
does anything read it. Like ``store.repository`` these functions flush but never commit: the caller
owns the transaction.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from connectors.intake import IntakeLimits, read_package, read_package_bytes
from connectors.intake.receive import folder_sha256, identify, manifest_from_folder, manifest_from_zip
from filings.settings import load
from store import repository as repo
from store.blobs import BlobStore
from store.models import Submission, SubmissionSource
from validations.filing import RawFiling


@dataclass(frozen=True)
class Receipt:
    """What receiving a package did. ``submission`` is None when the package could not be attributed
    to a guarantor and period (no readable manifest and no hint): its bytes are kept all the same."""

    blob_key: str
    package_sha256: str
    package_bytes: int
    institution_id: str | None
    period: str | None
    submission: Submission | None
    created: bool  # False: these bytes were already filed for this guarantor and period
    note: str | None = None


def receive_package(
    session: Session,
    blobs: BlobStore,
    package: bytes | str | Path,
    source: SubmissionSource | str,
    *,
    institution_id: str | None = None,
    period: str | None = None,
    received_at: dt.datetime | None = None,
) -> Receipt:
    """Keep the package's bytes, then record it as a submission (next sequence number).

    ``package`` is the bytes of a ZIP (upload, pull), or a path to a ZIP or a package folder (landing
    folder, CLI). ``institution_id``/``period`` are what the door knows (the endpoint's guarantor, the
    period pulled, the drop folder's name); the manifest's values win where usable. The same bytes
    filed again for the same guarantor and period return the existing submission (``created=False``).
    """
    if isinstance(package, (bytes, bytearray, memoryview)):
        data = bytes(package)
        key = blobs.put(data)
        sha, size, manifest = key.rsplit("/", 1)[1], len(data), manifest_from_zip(data)
    else:
        path = Path(package)
        if path.is_dir():
            try:
                key = blobs.put_folder(path)
            except ValueError as exc:  # a symbolic link inside: filing it could copy bytes from elsewhere
                return Receipt("", "", 0, institution_id, period, None, False, f"refused: {exc}")
            sha = folder_sha256(path)
            size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
            manifest = manifest_from_folder(path)
        else:
            key = blobs.put_file(path)
            sha, size, manifest = key.rsplit("/", 1)[1], path.stat().st_size, manifest_from_zip(path)
    who = identify(manifest, institution_id=institution_id, period=period)
    if not who.complete:
        note = "no readable manifest naming the guarantor and period, and no hint from where it came"
        return Receipt(key, sha, size, who.institution_id, who.period, None, False, note)
    assert who.institution_id is not None and who.period is not None
    existing = repo.find_submission_by_sha(session, who.institution_id, who.period, sha)
    if existing is not None:
        return Receipt(key, sha, size, who.institution_id, who.period, existing, False, "already received")
    submission = repo.record_submission(
        session,
        institution_id=who.institution_id,
        period=who.period,
        package_sha256=sha,
        package_bytes=size,
        blob_key=key,
        source=source,
        received_at=received_at,
    )
    return Receipt(key, sha, size, who.institution_id, who.period, submission, True)


def load_registry(session: Session, csv_path: str | Path) -> repo.UpsertResult:
    """Load the regulator's registry CSV into the store (insert new guarantors, update changed ones)."""
    from schemas.registry import load_registry_csv

    return repo.upsert_institutions(session, load_registry_csv(csv_path))


def load_filing(blobs: BlobStore, submission: Submission, limits: IntakeLimits | None = None) -> RawFiling:
    """Read a submission's package from the blob store, exactly as filed."""
    limits = limits or load().intake_limits()
    if blobs.is_folder(submission.blob_key):
        with tempfile.TemporaryDirectory(prefix="danbao-package-") as tmp:
            return read_package(blobs.restore_folder(submission.blob_key, Path(tmp) / "package"), limits)
    return read_package_bytes(blobs.get(submission.blob_key), limits)
