"""Writing a filing package: the data files plus a ``manifest.json`` that names them with their SHA-256s.

Package-level errors (FMT-001, FMT-002) can only be made here, where the manifest is written, so the
writer takes them as ``package_errors``; row-level errors are made beforehand by ``inject``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa

from connectors.synthetic.formats import EXTENSIONS, encode
from validations.context import Period

MANIFEST = "manifest.json"
FILE_ORDER = ("guarantees", "financials", "compensations")
PACKAGE_ERRORS = ("bad_sha", "bad_manifest")


def default_submitted_at(period: str) -> str:
    """10:00 Beijing time on the 5th of the following month: deterministic, and before the deadline."""
    following = Period.parse(period).next()
    return dt.datetime(following.year, following.month, 5, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))).isoformat()


def package_name(institution_id: str, period: str) -> str:
    return f"{institution_id}_{period}"


def _field(institution: Mapping[str, Any] | Any, key: str) -> str:
    """A registry row given as a mapping (``table.to_pylist()``) or an object (``Institution``)."""
    value = institution[key] if isinstance(institution, Mapping) else getattr(institution, key)
    return str(value)


def write_package(
    out_dir: str | Path,
    institution: Mapping[str, Any] | Any,
    period: str,
    tables: Mapping[str, pa.Table | None],
    fmt: str = "csv",
    zip: bool = False,
    submitted_at: str | None = None,
    *,
    package_errors: Iterable[str] = (),
    name: str | None = None,
    template_version: str | None = None,
) -> Path:
    """Write one package under ``out_dir``: the folder ``<institution_id>_<period>/`` or that name + ``.zip``.

    ``tables`` maps file names to tables; ``compensations`` is left out of the package (and the
    manifest) when it is missing or has no rows, as the template allows. ``package_errors`` may hold
    ``bad_sha`` (the manifest's hash of ``guarantees`` is wrong: FMT-002) and ``bad_manifest`` (the
    manifest lacks ``submitted_at``: FMT-001). Returns the folder or ZIP path.
    """
    errors = set(package_errors)
    unknown = errors - set(PACKAGE_ERRORS)
    if unknown:
        raise ValueError(f"unknown package errors {sorted(unknown)} (known: {', '.join(PACKAGE_ERRORS)})")
    institution_id = _field(institution, "institution_id")
    members: dict[str, bytes | memoryview] = {}
    files: dict[str, dict[str, str]] = {}
    for file in FILE_ORDER:
        table = tables.get(file)
        if table is None or (file == "compensations" and table.num_rows == 0):
            continue
        path = f"{file}{EXTENSIONS[fmt]}"
        members[path] = encode(table, fmt)
        files[file] = {"path": path, "sha256": hashlib.sha256(members[path]).hexdigest()}
    if "bad_sha" in errors:
        files["guarantees"]["sha256"] = hashlib.sha256(b"not the guarantees file").hexdigest()
    if template_version is None:  # the tables say: template 1.1 adds bank_risk_share
        guarantees = tables.get("guarantees")
        template_version = "1.1" if guarantees is not None and "bank_risk_share" in guarantees.column_names else "1.0"
    manifest: dict[str, Any] = {
        "template_version": template_version,
        "institution_id": institution_id,
        "institution_name": _field(institution, "name"),
        "period": period,
        "submitted_at": submitted_at or default_submitted_at(period),
        "files": files,
    }
    if "bad_manifest" in errors:
        del manifest["submitted_at"]
    members = {MANIFEST: (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode(), **members}

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    base = name or package_name(institution_id, period)
    if zip:
        target = out_dir / f"{base}.zip"
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
            for member, data in members.items():
                archive.writestr(member, data)
        return target
    target = out_dir / base
    target.mkdir(exist_ok=True)
    for stale in target.iterdir():  # a re-run in another format must not leave the old files behind
        if stale.is_file() and (stale.name == MANIFEST or stale.stem in FILE_ORDER):
            stale.unlink()
    for member, data in members.items():
        (target / member).write_bytes(data)
    return target
