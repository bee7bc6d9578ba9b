"""The table archive: versioned Parquet per asset, period and guarantor, on any fsspec file system.

Layout: ``<root>/<asset>/<period>/<guarantor>/v=NNNN/`` (per-period assets: ``<root>/<asset>/<period>/``),
written by the project's one versioned writer (``connectors.versioned``): every version once, never
replaced. ``accepted_filing`` is versioned by submission sequence, so "the latest version" is the
guarantor's filing of record; ``validation_result`` holds one version per validation, each naming its
submission, so a resubmission lands beside the earlier one, never over it.

No Dagster here: the IO manager, the application (``filings``) and scripts read the same archive.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
from upath import UPath

from connectors.versioned import Version, VersionedParquet, VersionExistsError

ACCEPTED = "accepted_filing"
VALIDATION = "validation_result"


@dataclass
class TableBundle:
    """Some Arrow tables and a JSON-able description of them: one version of one asset partition."""

    meta: dict[str, Any]
    tables: dict[str, pa.Table] = field(default_factory=dict)
    archived: int | None = None  # the archive version it was read from or written as, when known

    @property
    def sequence(self) -> int | None:
        value = self.meta.get("sequence")
        return int(value) if value is not None else None


class ArchiveExistsError(VersionExistsError):
    """A write-once version is already in the archive."""


class FilingArchive:
    def __init__(self, root: str | Path | UPath) -> None:
        self.parquet = VersionedParquet(root)
        self.root = self.parquet.root

    @staticmethod
    def partition(asset: str, period: str, guarantor: str | None = None) -> str:
        return f"{asset}/{period}/{guarantor}" if guarantor else f"{asset}/{period}"

    def versions(self, partition: str) -> list[int]:
        """Complete versions of ``partition``, oldest first."""
        return [v.number for v in self.parquet.versions(partition)]

    def write(self, partition: str, bundle: TableBundle, *, number: int | None = None) -> Version:
        """Write ``bundle`` as version ``number`` (default: the next). Raises ``ArchiveExistsError`` when
        that version exists: versions are write-once."""
        try:
            return self.parquet.write(partition, bundle.tables, bundle.meta, number=number)
        except VersionExistsError as exc:
            raise ArchiveExistsError(str(exc)) from None

    def read(self, version: Version, tables: list[str] | None = None) -> TableBundle:
        return TableBundle(dict(version.meta), self.parquet.read(version, tables), archived=version.number)

    def read_version(self, partition: str, number: int, tables: list[str] | None = None) -> TableBundle | None:
        version = self.parquet.version(partition, number)
        return None if version is None else self.read(version, tables)

    def latest(self, partition: str, tables: list[str] | None = None) -> TableBundle | None:
        version = self.parquet.latest(partition)
        return None if version is None else self.read(version, tables)

    # -- a filing's validation result and its accepted filing ---------------------------------------

    def validation(self, period: str, guarantor: str, sequence: int, tables: list[str] | None = None) -> TableBundle | None:
        """The latest validation result of the guarantor's submission ``sequence`` for ``period``."""
        for version in reversed(self.parquet.versions(self.partition(VALIDATION, period, guarantor))):
            if version.meta.get("sequence") == sequence:
                return self.read(version, tables)
        return None

    def accepted(self, period: str, guarantor: str, sequence: int | None = None,
                 tables: list[str] | None = None) -> TableBundle | None:
        """The typed tables of an accepted filing: ``sequence``'s, or the latest accepted one."""
        partition = self.partition(ACCEPTED, period, guarantor)
        if sequence is None:
            return self.latest(partition, tables)
        return self.read_version(partition, sequence, tables)
