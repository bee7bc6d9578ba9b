"""What the intake hands to the rule engine: the manifest and each data file as a table of strings.

Every cell stays text until phase 1 parses it (FMT-005), so that a bad value is reported with its
row and column instead of failing a whole-file conversion.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from validations.findings import Findings


@dataclass
class RawFile:
    name: str  # template file name: guarantees, financials, compensations
    path: str  # member path inside the package
    table: pa.Table | None  # all columns pa.string(), header text as written; None once the engine took it
    format: str  # csv, xlsx, parquet
    encoding: str | None = None  # for CSV: utf-8, utf-8-sig, gb18030

    def take_table(self) -> pa.Table:
        """The table, handed over: the rule engine parses it once and keeps only what its findings can
        still report (a million-row ledger's text is ≈ 370 MB; the received bytes are the record). A
        filing is read again to be checked again."""
        if self.table is None:
            raise ValueError(f"{self.name}: this filing's text was already taken by a check; read the package again")
        table, self.table = self.table, None
        return table


@dataclass
class RawFiling:
    """A package as read: whatever could be read, plus the read-time findings (FMT-001/2/3/7)."""

    manifest: dict[str, Any] | None
    files: dict[str, RawFile] = field(default_factory=dict)
    findings: Findings = field(default_factory=Findings)
    package_sha256: str | None = None
    package_bytes: int = 0

    @property
    def institution_id(self) -> str | None:
        value = (self.manifest or {}).get("institution_id")
        return value if isinstance(value, str) else None

    @property
    def period(self) -> str | None:
        value = (self.manifest or {}).get("period")
        return value if isinstance(value, str) else None

    @property
    def template_version(self) -> str | None:
        value = (self.manifest or {}).get("template_version")
        return value if isinstance(value, str) else None
