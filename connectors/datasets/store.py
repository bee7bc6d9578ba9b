"""Append-only, versioned Parquet partitions (outputs.md §2).

Layout: ``{root}/{dataset}/schema={SCHEMA_VERSION}/period={YYYY-MM}[/institution={id}]/v={NNNN}/``
holding ``part.parquet`` and ``_manifest.json``. A version directory is written under a temporary name
and renamed into place, which fails if it exists, so a version is never rewritten; a correction is the
next version. Readers take the highest version of each partition. Writing a table identical to the
latest version writes nothing (re-materializing an asset is idempotent).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

SCHEMA_VERSION = "1"
DATASETS = ("indicators", "findings", "grades", "subsidies", "guarantees", "discipline_list")
_VERSION_DIR = re.compile(r"^v=(\d{4,})$")


@dataclass(frozen=True)
class PartitionVersion:
    dataset: str
    period: str
    institution_id: str | None
    version: int
    path: Path
    rows: int
    sha256: str


def default_root() -> Path:
    return Path(os.environ.get("DANBAO_DATASETS_DIR") or Path(os.environ.get("DANBAO_HOME", "var")) / "datasets")


class DatasetStore:
    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root is not None else default_root()

    def partition_dir(self, dataset: str, period: str, institution_id: str | None = None) -> Path:
        if dataset not in DATASETS:
            raise ValueError(f"unknown dataset {dataset!r}")
        path = self.root / dataset / f"schema={SCHEMA_VERSION}" / f"period={period}"
        return path / f"institution={institution_id}" if institution_id else path

    def versions(self, dataset: str, period: str, institution_id: str | None = None) -> list[PartitionVersion]:
        base = self.partition_dir(dataset, period, institution_id)
        if not base.is_dir():
            return []
        found = []
        for child in base.iterdir():
            match = _VERSION_DIR.match(child.name)
            if match and (child / "_manifest.json").is_file():
                meta = json.loads((child / "_manifest.json").read_text(encoding="utf-8"))
                found.append(PartitionVersion(dataset, period, institution_id, int(match.group(1)), child,
                                              meta["rows"], meta["sha256"]))
        return sorted(found, key=lambda v: v.version)

    def latest(self, dataset: str, period: str, institution_id: str | None = None) -> PartitionVersion | None:
        versions = self.versions(dataset, period, institution_id)
        return versions[-1] if versions else None

    def write(self, dataset: str, period: str, table: pa.Table, *, institution_id: str | None = None,
              source: dict[str, Any] | None = None) -> PartitionVersion:
        """Publish ``table`` as the next version of its partition (or return the latest if identical)."""
        table = table.replace_schema_metadata({
            **(table.schema.metadata or {}),
            b"danbao.dataset": dataset.encode(), b"danbao.schema_version": SCHEMA_VERSION.encode(),
        })
        sink = io.BytesIO()
        pq.write_table(table, sink, compression="zstd")
        data = sink.getvalue()
        digest = hashlib.sha256(data).hexdigest()
        base = self.partition_dir(dataset, period, institution_id)
        latest = self.latest(dataset, period, institution_id)
        if latest is not None and latest.sha256 == digest:
            return latest
        base.mkdir(parents=True, exist_ok=True)
        staging = base / f".staging-{uuid.uuid4().hex}"
        staging.mkdir()
        (staging / "part.parquet").write_bytes(data)
        manifest = {
            "dataset": dataset, "schema_version": SCHEMA_VERSION, "period": period, "institution_id": institution_id,
            "rows": table.num_rows, "sha256": digest, "created_at": dt.datetime.now(dt.UTC).isoformat(),
            "source": source or {},
        }
        (staging / "_manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        number = latest.version + 1 if latest else 1
        while True:
            target = base / f"v={number:04d}"
            try:
                os.rename(staging, target)  # fails when another writer took this version
                break
            except OSError:
                if not target.exists():
                    raise
                number += 1
        for path in (target / "part.parquet", target / "_manifest.json"):
            path.chmod(0o444)
        return PartitionVersion(dataset, period, institution_id, number, target, table.num_rows, digest)

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

    def read(self, dataset: str, period: str | None = None, institution_id: str | None = None) -> pa.Table | None:
        """The latest version of every matching partition, concatenated; None when nothing is published."""
        tables = []
        for p, institution in self.partitions(dataset, period):
            if institution_id is not None and institution != institution_id:
                continue
            latest = self.latest(dataset, p, institution)
            if latest is not None:
                tables.append(pq.read_table(latest.path / "part.parquet"))
        if not tables:
            return None
        return pa.concat_tables(tables, promote_options="permissive")
