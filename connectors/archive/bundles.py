"""A package as read (``RawFiling``) ↔ a ``TableBundle`` that the archive can keep as Parquet.

Headers are whatever the guarantor wrote: Chinese aliases, duplicates, empty names, names Parquet
chokes on. So the tables are stored with positional column names (``c0``, ``c1``, …) and the headers
as written go into the bundle's description; reading restores them exactly, and the rule engine sees
the same ``RawFiling`` it would have seen straight from the package.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from connectors.archive import TableBundle
from validations.filing import RawFile, RawFiling
from validations.findings import FINDINGS_SCHEMA, Findings

READ_FINDINGS = "read_findings"


def filing_to_bundle(filing: RawFiling, meta: dict[str, Any]) -> TableBundle:
    files: dict[str, dict[str, Any]] = {}
    tables: dict[str, pa.Table] = {READ_FINDINGS: filing.findings.to_table()}
    for name, raw in filing.files.items():
        files[name] = {"path": raw.path, "format": raw.format, "encoding": raw.encoding,
                       "headers": list(raw.table.column_names), "rows": raw.table.num_rows}
        tables[name] = raw.table.rename_columns([f"c{i}" for i in range(raw.table.num_columns)])
    description = {
        **meta,
        "manifest": filing.manifest,
        "files": files,
        "package_sha256": filing.package_sha256,
        "package_bytes": filing.package_bytes,
    }
    return TableBundle(description, tables)


def bundle_to_filing(bundle: TableBundle) -> RawFiling:
    meta = bundle.meta
    findings = Findings()
    read = bundle.tables.get(READ_FINDINGS)
    if read is not None and read.num_rows:
        findings.extend_table(read.select(FINDINGS_SCHEMA.names))
    filing = RawFiling(
        manifest=meta.get("manifest"),
        findings=findings,
        package_sha256=meta.get("package_sha256"),
        package_bytes=int(meta.get("package_bytes") or 0),
    )
    for name, info in (meta.get("files") or {}).items():
        table = bundle.tables[name].rename_columns(info["headers"])
        filing.files[name] = RawFile(name=name, path=info["path"], table=table, format=info["format"],
                                     encoding=info.get("encoding"))
    return filing
