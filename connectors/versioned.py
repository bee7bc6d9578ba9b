"""The one writer of versioned, write-once Parquet: the table archive and the published datasets both
keep their partitions with it.

A partition is a folder; each version of it is ``v=NNNN/`` holding one ``<table>.parquet`` per table
and ``_manifest.json``, written last and whole (a local one is written aside and renamed into place; an
object store's put is whole), so a version without its manifest is incomplete and never read: a writer
killed half-way leaves a folder readers skip, which a write-once version's next writer completes.
A version is written once: writing a version that exists raises ``VersionExistsError``, and a new
version is claimed by creating its folder exclusively, so two writers never share one. Files of a
local version are made read-only. Nothing is ever replaced: a correction is the next version.

Any fsspec URL works (``universal_pathlib``). On object stores, where a folder is only a prefix, a
version is claimed by creating its ``_claim`` object conditionally and its manifest is created the
same way (S3 refuses a second create of a key: ``If-None-Match``), so a version is still written once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from upath import UPath

from connectors.arrow_sources import parquet_schema, read_parquet

MANIFEST = "_manifest.json"
#: On an object store, the (empty) object whose conditional creation claims a version number.
CLAIM = "_claim"
PARQUET = ".parquet"
_VERSION = re.compile(r"^v=(\d{4,})$")
_TABLE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")


class VersionExistsError(FileExistsError):
    """A write-once version is already there."""


@dataclass(frozen=True)
class Version:
    """One complete version of a partition: where it is, its manifest, and its tables' digests."""

    partition: str
    number: int
    path: UPath
    meta: dict[str, Any] = field(default_factory=dict)  # what the writer was given
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)  # name → {"rows", "sha256"}

    def rows(self, name: str) -> int:
        return int(self.tables[name]["rows"])

    def sha256(self, name: str) -> str:
        return str(self.tables[name]["sha256"])


def version_dir(number: int) -> str:
    return f"v={number:04d}"


class VersionedParquet:
    """Versioned partitions under ``root`` (a folder or any fsspec URL)."""

    def __init__(self, root: str | Path | UPath) -> None:
        self.root = root if isinstance(root, UPath) else UPath(str(root))

    def path(self, partition: str) -> UPath:
        return self.root / partition if partition else self.root

    # -- reading ---------------------------------------------------------------------------------

    def versions(self, partition: str) -> list[Version]:
        """Complete versions of ``partition``, oldest first."""
        base = self.path(partition)
        found = []
        for child in _children(base):
            match = _VERSION.match(child.name)
            if match and (version := self._version(partition, int(match.group(1)), child)) is not None:
                found.append(version)
        return sorted(found, key=lambda v: v.number)

    def version(self, partition: str, number: int) -> Version | None:
        return self._version(partition, number, self.path(partition) / version_dir(number))

    def latest(self, partition: str) -> Version | None:
        versions = self.versions(partition)
        return versions[-1] if versions else None

    def read(self, version: Version, tables: list[str] | None = None,
             columns: list[str] | None = None) -> dict[str, pa.Table]:
        """The tables of ``version`` (``tables`` limits which are loaded; ``columns``, which of their
        columns are decoded: those a table lacks are left out, not an error)."""
        wanted = list(version.tables) if tables is None else [n for n in version.tables if n in tables]
        loaded = {}
        for name in wanted:  # a path or Arrow-owned bytes, never a Python file object (connectors.arrow_sources)
            path = version.path / f"{name}{PARQUET}"
            source = Path(path.path) if _local(path) else path.read_bytes()
            options = {} if columns is None else {"columns": [c for c in parquet_schema(source).names if c in columns]}
            loaded[name] = read_parquet(source, **options)
        return loaded

    @staticmethod
    def _version(partition: str, number: int, path: UPath) -> Version | None:
        """The version in ``path``, or None when it is incomplete (no manifest, or not a whole one)."""
        manifest = _manifest(path)
        if manifest is None:
            return None
        return Version(partition, number, path, manifest.get("meta", {}), manifest.get("tables", {}))

    # -- writing ---------------------------------------------------------------------------------

    def write(self, partition: str, tables: Mapping[str, pa.Table], meta: Mapping[str, Any] | None = None, *,
              number: int | None = None, unless_same: bool = False) -> Version:
        """Write ``tables`` and ``meta`` as version ``number`` of ``partition`` (default: the next one).

        ``unless_same``: when the latest version holds exactly these tables (same Parquet bytes), write
        nothing and return it, so that publishing the same content again is idempotent.
        """
        for name in tables:
            if not _TABLE_NAME.match(name):
                raise ValueError(f"not a table name: {name!r}")
        encoded = {name: _parquet(table) for name, table in tables.items()}
        digests = {name: {"rows": tables[name].num_rows, "sha256": hashlib.sha256(data).hexdigest()}
                   for name, data in encoded.items()}
        base = self.path(partition)
        if unless_same and number is None:
            latest = self.latest(partition)
            if latest is not None and latest.tables == digests:
                return latest
        base.mkdir(parents=True, exist_ok=True)
        target, number = self._claim(base, number)
        for name, data in encoded.items():
            with (target / f"{name}{PARQUET}").open("wb") as handle:
                handle.write(data)
        manifest = {"partition": partition, "version": number, "tables": digests, "meta": dict(meta or {}),
                    "created_at": dt.datetime.now(dt.UTC).isoformat()}
        _write_whole(target, MANIFEST, json.dumps(manifest, ensure_ascii=False, sort_keys=True, default=str,
                                                  indent=1).encode("utf-8"))
        _read_only(target)
        return Version(partition, number, target, dict(meta or {}), digests)

    def _claim(self, base: UPath, number: int | None) -> tuple[UPath, int]:
        """Create the version's folder exclusively; the next free number when none is asked for."""
        if not _local(base):
            return _claim_object(base, number)
        if number is not None:
            target = base / version_dir(number)
            if _manifest(target) is not None:
                raise VersionExistsError(f"{target} exists and is write-once")
            target.mkdir(parents=True, exist_ok=True)  # a crash left it incomplete: completed now
            return target, number
        existing = [int(m.group(1)) for c in base.iterdir() if (m := _VERSION.match(c.name))]
        number = max(existing, default=0) + 1
        while True:
            target = base / version_dir(number)
            try:
                target.mkdir(parents=False, exist_ok=False)
                return target, number
            except FileExistsError:
                number += 1


def _children(base: UPath) -> list[UPath]:
    """The entries of a partition folder, none when it does not exist. On an object store the listing is
    asked for afresh (fsspec caches listings per process; another host may have written since)."""
    if not _local(base):
        base.fs.invalidate_cache(base.path)
    try:
        return list(base.iterdir()) if base.is_dir() else []
    except (FileNotFoundError, NotADirectoryError):
        return []


def _claim_object(base: UPath, number: int | None) -> tuple[UPath, int]:
    """Claim a version on an object store, where a folder is only a prefix: by creating its ``_claim``
    object conditionally (S3's ``If-None-Match: *`` through s3fs' ``mode="create"``; check-then-put on
    file systems without one), so two writers never share a version number."""
    if number is not None:
        target = base / version_dir(number)
        if _manifest(target) is not None:
            raise VersionExistsError(f"{target} exists and is write-once")
        with contextlib.suppress(FileExistsError):  # a writer that died left it incomplete: completed now
            target.fs.pipe_file(f"{target.path}/{CLAIM}", b"", mode="create")
        return target, number
    existing = [int(m.group(1)) for c in _children(base) if (m := _VERSION.match(c.name))]
    number = max(existing, default=0) + 1
    while True:
        target = base / version_dir(number)
        try:
            target.fs.pipe_file(f"{target.path}/{CLAIM}", b"", mode="create")
            return target, number
        except FileExistsError:
            number += 1


def _parquet(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def _local(target: UPath) -> bool:
    return getattr(target, "protocol", "") in ("", "file", "local")


def _manifest(path: UPath) -> dict[str, Any] | None:
    """A version folder's manifest; None when it has none, or not a whole one (a writer killed while
    writing it before manifests were renamed into place)."""
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return manifest if isinstance(manifest, dict) else None


def _write_whole(target: UPath, name: str, data: bytes) -> None:
    """Write ``name`` in ``target`` so that it is never seen half-written: locally aside, then renamed
    into place (atomic); on an object store one put is whole anyway."""
    if not _local(target):
        target.fs.pipe_file(f"{target.path}/{name}", data, mode="create")  # never replaces a manifest
        return
    folder = Path(target.path)
    part = folder / f".{name}.part"
    with open(part, "wb") as handle:
        handle.write(data)
    os.replace(part, folder / name)


def _read_only(target: UPath) -> None:
    """Local files of a version become read-only (object stores have no such mode)."""
    if not _local(target):
        return
    for child in Path(target.path).iterdir():
        child.chmod(0o444)
