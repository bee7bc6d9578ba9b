"""Published datasets (outputs.md §2): append-only, versioned Parquet partitions.

Layout: ``{root}/{dataset}/schema={SCHEMA_VERSION}/period={YYYY-MM}[/institution={id}]/v={NNNN}/``
holding ``part.parquet`` and ``_manifest.json``, written by the project's one versioned writer
(``connectors.versioned``): a version is never rewritten, a correction is the next version, readers
take the highest version of each partition, and writing a table identical to the latest version
writes nothing (re-materializing an asset is idempotent).

``root`` is a folder or any fsspec URL (``s3://bucket/datasets``), shared by every worker.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
from upath import UPath

from connectors.versioned import Version, VersionedParquet

SCHEMA_VERSION = "1"
DATASETS = ("indicators", "findings", "grades", "subsidies", "guarantees", "compensations", "discipline_list")
PART = "part"


@dataclass(frozen=True)
class PartitionVersion:
    dataset: str
    period: str
    institution_id: str | None
    version: int
    path: UPath  # a pathlib.Path when local
    rows: int
    sha256: str


def default_root() -> Path:
    return Path(os.environ.get("DANBAO_DATASETS_DIR") or Path(os.environ.get("DANBAO_HOME", "var")) / "datasets")


class DatasetStore:
    def __init__(self, root: Path | str | None = None) -> None:
        self.root = UPath(str(root if root is not None else default_root()))
        self.parquet = VersionedParquet(self.root)

    @staticmethod
    def partition(dataset: str, period: str, institution_id: str | None = None) -> str:
        if dataset not in DATASETS:
            raise ValueError(f"unknown dataset {dataset!r}")
        path = f"{dataset}/schema={SCHEMA_VERSION}/period={period}"
        return f"{path}/institution={institution_id}" if institution_id else path

    def _published(self, dataset: str, period: str, institution_id: str | None, version: Version) -> PartitionVersion:
        return PartitionVersion(dataset, period, institution_id, version.number, version.path,
                                version.rows(PART), version.sha256(PART))

    def versions(self, dataset: str, period: str, institution_id: str | None = None) -> list[PartitionVersion]:
        return [self._published(dataset, period, institution_id, v)
                for v in self.parquet.versions(self.partition(dataset, period, institution_id))]

    def latest(self, dataset: str, period: str, institution_id: str | None = None) -> PartitionVersion | None:
        latest = self.parquet.latest(self.partition(dataset, period, institution_id))
        return None if latest is None else self._published(dataset, period, institution_id, latest)

    def write(self, dataset: str, period: str, table: pa.Table, *, institution_id: str | None = None,
              source: dict[str, Any] | None = None) -> PartitionVersion:
        """Publish ``table`` as the next version of its partition (or return the latest if identical)."""
        table = table.replace_schema_metadata({
            **(table.schema.metadata or {}),
            b"danbao.dataset": dataset.encode(), b"danbao.schema_version": SCHEMA_VERSION.encode(),
        })
        meta = {"dataset": dataset, "schema_version": SCHEMA_VERSION, "period": period,
                "institution_id": institution_id, "source": source or {}}
        version = self.parquet.write(self.partition(dataset, period, institution_id), {PART: table}, meta,
                                     unless_same=True)
        return self._published(dataset, period, institution_id, version)

    def partitions(self, dataset: str, period: str | None = None) -> list[tuple[str, str | None]]:
        """(period, institution_id) of every partition of ``dataset`` (optionally of one period)."""
        root = self.root / dataset / f"schema={SCHEMA_VERSION}"
        if not root.is_dir():
            return []
        found: list[tuple[str, str | None]] = []
        for period_dir in sorted(root.glob("period=*")):
            p = period_dir.name.split("=", 1)[1]
            if period is not None and p != period:
                continue
            institutions = sorted(period_dir.glob("institution=*"))
            if institutions:
                found.extend((p, i.name.split("=", 1)[1]) for i in institutions)
            else:
                found.append((p, None))
        return found

    def read(self, dataset: str, period: str | None = None, institution_id: str | None = None,
             columns: list[str] | None = None) -> pa.Table | None:
        """The latest version of every matching partition, concatenated; None when nothing is published.
        ``columns`` limits the columns decoded (those a version lacks are left out)."""
        tables = []
        for p, institution in self.partitions(dataset, period):
            if institution_id is not None and institution != institution_id:
                continue
            latest = self.parquet.latest(self.partition(dataset, p, institution))
            if latest is not None:
                tables.append(self.parquet.read(latest, columns=columns)[PART])
        if not tables:
            return None
        return pa.concat_tables(tables, promote_options="permissive")
