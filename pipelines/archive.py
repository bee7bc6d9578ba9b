"""The table archive: versioned Parquet per asset, period and guarantor, on any fsspec file system.

Layout: ``<root>/<asset>/<period>/<guarantor>/<version>/`` holding one ``<table>.parquet`` per table
and ``_meta.json``, written last, so a version without it is incomplete and is never read. The version
of a filing's tables is its submission's sequence number: a resubmission lands beside the earlier
one, never over it, and "the latest version" of ``accepted_filing`` is the guarantor's filing of
record (the accepted submission with the highest sequence). Per-period assets use
``<root>/<asset>/<period>/<version>/`` with versions counted up.

No Dagster here: the IO manager, the portal and scripts all read the same archive.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from upath import UPath

META = "_meta.json"
PARQUET = ".parquet"


@dataclass
class TableBundle:
    """Some Arrow tables and a JSON-able description of them: one version of one asset partition."""

    meta: dict[str, Any]
    tables: dict[str, pa.Table] = field(default_factory=dict)

    @property
    def version(self) -> int | None:
        value = self.meta.get("sequence")
        return int(value) if value is not None else None


class ArchiveExistsError(FileExistsError):
    """A write-once version is already in the archive."""


class FilingArchive:
    def __init__(self, root: str | Path | UPath) -> None:
        self.root = root if isinstance(root, UPath) else UPath(str(root))

    def partition_dir(self, asset: str, period: str, guarantor: str | None = None) -> UPath:
        path = self.root / asset / period
        return path / guarantor if guarantor else path

    # -- versions --------------------------------------------------------------------------------

    def versions(self, directory: UPath) -> list[int]:
        """Complete versions under ``directory``, oldest first."""
        if not directory.exists():
            return []
        found = []
        for child in directory.iterdir():
            if child.name.isdigit() and (child / META).exists():
                found.append(int(child.name))
        return sorted(found)

    @staticmethod
    def version_dir(directory: UPath, version: int) -> UPath:
        return directory / f"{version:04d}"

    def next_version(self, directory: UPath) -> int:
        versions = self.versions(directory)
        return versions[-1] + 1 if versions else 1

    # -- writing and reading ---------------------------------------------------------------------

    def write(self, directory: UPath, bundle: TableBundle, *, version: int | None = None,
              write_once: bool = False) -> UPath:
        """Write ``bundle`` as ``version`` (default: its sequence, else the next number).

        ``write_once`` versions (accepted filings) are never replaced: writing one that exists
        raises ``ArchiveExistsError``. Other versions (derived results, e.g. a re-validation after a
        registry correction) are replaced in place: the marker goes first, so a reader never sees a
        mixture of two writes.
        """
        version = version if version is not None else bundle.version
        version = version if version is not None else self.next_version(directory)
        target = self.version_dir(directory, version)
        marker = target / META
        if marker.exists():
            if write_once:
                raise ArchiveExistsError(f"{target} exists and is write-once")
            marker.unlink()
        target.mkdir(parents=True, exist_ok=True)
        names = sorted(bundle.tables)
        for name in names:
            if "/" in name or name.startswith((".", "_")):
                raise ValueError(f"not a table name: {name!r}")
            with (target / f"{name}{PARQUET}").open("wb") as handle:
                pq.write_table(bundle.tables[name], handle, compression="zstd")
        for stale in target.iterdir():
            if stale.name.endswith(PARQUET) and stale.name[: -len(PARQUET)] not in bundle.tables:
                stale.unlink()
        meta = {**bundle.meta, "_tables": names, "_version": version}
        marker.write_text(json.dumps(meta, ensure_ascii=False, sort_keys=True, default=str), encoding="utf-8")
        return target

    def read(self, target: UPath, tables: list[str] | None = None) -> TableBundle:
        """One version; ``tables`` limits which tables are loaded (default: all)."""
        meta = json.loads((target / META).read_text(encoding="utf-8"))
        names = meta.pop("_tables", [])
        meta.pop("_version", None)
        wanted = names if tables is None else [n for n in names if n in tables]
        loaded = {}
        for name in wanted:
            with (target / f"{name}{PARQUET}").open("rb") as handle:
                loaded[name] = pq.read_table(handle)
        return TableBundle(meta, loaded)

    def latest(self, directory: UPath, tables: list[str] | None = None) -> TableBundle | None:
        versions = self.versions(directory)
        return self.read(self.version_dir(directory, versions[-1]), tables) if versions else None

    # -- the filing of record ---------------------------------------------------------------------

    def accepted(self, period: str, guarantor: str, sequence: int | None = None,
                 tables: list[str] | None = None) -> TableBundle | None:
        """The typed tables of an accepted filing: ``sequence``'s, or the latest accepted one."""
        directory = self.partition_dir("accepted_filing", period, guarantor)
        if sequence is None:
            return self.latest(directory, tables)
        target = self.version_dir(directory, sequence)
        return self.read(target, tables) if (target / META).exists() else None
