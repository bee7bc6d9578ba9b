"""Upload: screen a package at the door, keep its bytes, record the submission, hand it on.

Everything that makes a request bad input is refused here, before anything is stored (only the audit
record remains): a body over the size limit, a content type that is not a package, ZIP tricks (unsafe
or duplicate member names, symbolic links, encryption, too many members, expansion past the limits
whatever the headers claim), a manifest for another guarantor. What is wrong *inside* a well-formed
package (a missing column, a bad check character) is the rule engine's business: it is filed and
comes back as findings.

Then the order of ``filings.intake`` holds: bytes into the blob store, the submission
recorded with its sequence number, and only then validation, either by the Dagster graph (the
``intake_sensor`` starts a run for every ``received`` submission, whatever door it came through) or,
with ``inline_validation``, right here with the same functions the graph calls.
"""

from __future__ import annotations

import io
import logging
import re
import stat
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from connectors.archive import FilingArchive
from connectors.intake import IntakeLimits
from connectors.intake.package import ZIP_ERRORS
from connectors.intake.readers import format_of
from connectors.intake.receive import (
    MANIFEST,
    ManifestError,
    identify,
    is_period,
    manifest_from_zip,
    parse_manifest,
)
from filings.intake import receive_package
from filings.validation import begin_validation, validate_submission
from store import repository as repo
from store.models import Submission, SubmissionSource
from web.auth import Principal
from web.context import Portal
from web.refusals import Refused

log = logging.getLogger(__name__)

ZIP_TYPES = ("application/zip", "application/x-zip-compressed", "application/x-zip")
_SAFE_NAME = re.compile(r"[^/\\\x00-\x1f]{1,200}")
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


@dataclass
class Incoming:
    """A package as it arrived: the bytes of one ZIP, or loose files (data files and ``manifest.json``)."""

    zip_bytes: bytes | None = None
    files: dict[str, bytes] = field(default_factory=dict)
    period_hint: str | None = None

    @property
    def size(self) -> int:
        return len(self.zip_bytes) if self.zip_bytes is not None else sum(len(b) for b in self.files.values())

    def manifest(self) -> dict[str, Any] | None:
        if self.zip_bytes is not None:
            return manifest_from_zip(self.zip_bytes)
        data = self.files.get(MANIFEST)
        if data is None:
            return None
        try:  # the intake's strict reading: the rule engine reports what is wrong (FMT-001)
            return parse_manifest(data)
        except ManifestError:
            return None


def is_zip(data: bytes) -> bool:
    return data[:4] in _ZIP_MAGIC


def from_parts(parts: list[tuple[str, bytes]], period_hint: str | None) -> Incoming:
    """One ZIP part, or loose files; the names and kinds are checked here."""
    if not parts:
        raise Refused(422, "no_package", "send the package: one .zip, or the data files with manifest.json")
    if len(parts) == 1 and (is_zip(parts[0][1]) or parts[0][0].lower().endswith(".zip")):
        return Incoming(zip_bytes=parts[0][1], period_hint=period_hint)
    files: dict[str, bytes] = {}
    for name, data in parts:
        if not _SAFE_NAME.fullmatch(name) or name.startswith(".") or name in ("..",):
            raise Refused(422, "unsafe_file_name", f"file names must be plain names, not {name!r}",
                          detail={"file_name": name[:80]})
        if name in files:
            raise Refused(422, "duplicate_file", f"{name} is sent twice", detail={"file_name": name})
        if name != MANIFEST and format_of(name) is None:
            raise Refused(415, "unsupported_file_type",
                          f"{name}: a package holds manifest.json and CSV, XLSX or Parquet files",
                          detail={"file_name": name[:80]})
        files[name] = data
    if MANIFEST not in files:
        raise Refused(422, "no_manifest", "loose files need their manifest.json (or send one .zip)")
    return Incoming(files=files, period_hint=period_hint)


def check_period_hint(value: str | None) -> str | None:
    value = (value or "").strip() or None
    if value is not None and not is_period(value):
        raise Refused(422, "invalid_period", "period must be YYYY-MM")
    return value


# -- ZIP screening --------------------------------------------------------------------------------


def screen_zip(data: bytes, limits: IntakeLimits) -> None:
    """Refuse a ZIP that would make reading it unsafe or unbounded; read every member to prove it.

    Header sizes are not trusted: each member is decompressed with a byte budget (its compressed size
    times the allowed ratio), and all members together may not pass ``max_expanded_bytes``.
    """
    if not is_zip(data) or not zipfile.is_zipfile(io.BytesIO(data)):
        raise Refused(422, "not_a_zip", "the package is not a ZIP file")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        raise Refused(422, "corrupt_zip", "the ZIP file is damaged") from None
    if len(infos) > limits.max_members:
        raise Refused(422, "zip_too_many_members", f"the ZIP holds more than {limits.max_members} members",
                      detail={"members": len(infos)})
    seen: set[str] = set()
    declared = 0
    for info in infos:
        name = info.filename.replace("\\", "/")
        pure = PurePosixPath(name)
        if pure.is_absolute() or ".." in pure.parts or (pure.parts and ":" in pure.parts[0]) or "\x00" in name:
            raise Refused(422, "zip_unsafe_path", "a ZIP member's path leaves the package",
                          detail={"member": name[:80]})
        key = pure.as_posix().lower()
        if key in seen:
            raise Refused(422, "zip_duplicate_member", "a ZIP member name appears twice", detail={"member": name[:80]})
        seen.add(key)
        if stat.S_ISLNK(info.external_attr >> 16):
            raise Refused(422, "zip_symlink", "the ZIP holds a symbolic link", detail={"member": name[:80]})
        if info.flag_bits & 0x1:
            raise Refused(422, "zip_encrypted", "the ZIP holds an encrypted member", detail={"member": name[:80]})
        declared += info.file_size
    if declared > limits.max_expanded_bytes:
        raise Refused(413, "zip_too_large", f"the ZIP expands past {limits.max_expanded_bytes} bytes",
                      detail={"declared_bytes": declared})
    total = 0
    with archive:
        for info in infos:
            if info.is_dir():
                continue
            budget = min(limits.max_expanded_bytes, max(int(info.compress_size * limits.max_expansion_ratio), 1 << 20))
            size = 0
            try:
                with archive.open(info) as member:
                    while chunk := member.read(1 << 20):
                        size += len(chunk)
                        total += len(chunk)
                        if size > budget or total > limits.max_expanded_bytes:
                            raise Refused(413, "zip_bomb", "a ZIP member expands past the allowed ratio or size",
                                          detail={"member": info.filename[:80]})
            except (*ZIP_ERRORS, zipfile.LargeZipFile, RuntimeError):
                raise Refused(422, "corrupt_zip", "a ZIP member is damaged", detail={"member": info.filename[:80]}) from None
            except NotImplementedError:
                raise Refused(422, "corrupt_zip", "a ZIP member uses an unsupported compression",
                              detail={"member": info.filename[:80]}) from None


# -- receiving ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadResult:
    submission: Submission
    created: bool


def receive_upload(portal: Portal, principal: Principal, incoming: Incoming) -> UploadResult:
    """Screen, store, record and hand over one package; refusals raise ``Refused`` with nothing stored."""
    if not principal.is_guarantor or principal.institution_id is None:
        raise Refused(403, "forbidden", "only a guarantor's token can file a package")
    settings = portal.settings
    if incoming.size > settings.max_upload_bytes:
        raise Refused(413, "too_large", f"the package is larger than {settings.max_upload_bytes} bytes",
                      detail={"bytes": incoming.size})
    if incoming.zip_bytes is not None:
        screen_zip(incoming.zip_bytes, settings.limits)
    elif len(incoming.files) > settings.limits.max_members:
        raise Refused(422, "too_many_files", f"a package holds at most {settings.limits.max_members} files")
    who = identify(incoming.manifest(), institution_id=principal.institution_id, period=incoming.period_hint)
    if who.institution_id != principal.institution_id:
        with portal.session() as session:
            known = repo.get_institution(session, str(who.institution_id)) is not None
        raise Refused(403, "wrong_guarantor", "the manifest names another guarantor than this token's",
                      detail={"manifest_institution_id": who.institution_id if known else "not in the registry"})
    if who.period is None:
        raise Refused(422, "no_period", "the manifest names no period (YYYY-MM): send `period` with the package")
    with tempfile.TemporaryDirectory(prefix="danbao-upload-") as tmp:
        package: bytes | Path
        if incoming.zip_bytes is not None:
            package = incoming.zip_bytes
        else:
            package = Path(tmp) / "package"
            package.mkdir()
            for name, data in incoming.files.items():
                (package / name).write_bytes(data)
        with portal.session() as session:
            receipt = receive_package(
                session, portal.blobs, package, SubmissionSource.UPLOAD,
                institution_id=principal.institution_id, period=incoming.period_hint,
            )
            submission = receipt.submission
            if submission is None:  # identify() said complete above, so this cannot happen
                raise Refused(422, "unidentified", receipt.note or "the package could not be attributed")
            inline = settings.inline_validation and receipt.created
            if inline:  # claimed in the same transaction, so a running sensor does not start a run for it
                begin_validation(session, submission)
    if inline:
        submission = validate_inline(portal, submission.id)
    return UploadResult(submission, receipt.created)


def validate_inline(portal: Portal, submission_id: int) -> Submission:
    """``filings.validation.validate_submission``, the same call every door makes, in the request. The
    intake sensor then runs the accepted filing's datasets and deliveries, as for any other door."""
    try:
        validate_submission(portal.session, portal.blobs, FilingArchive(portal.settings.tables_url), submission_id,
                            limits=portal.settings.limits)
    except Exception:  # it went back to received: the pipeline validates it
        log.exception("inline validation of submission %s failed; it goes back to received", submission_id)
    with portal.session() as session:
        submission = repo.get_submission(session, submission_id)
        assert submission is not None
    return submission
