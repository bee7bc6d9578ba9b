"""Findings in long form: one row per (rule, file, row, column), kept as Arrow so that a million-row
filing with a million findings never becomes a million Python objects."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from validations.exact import decimal_text


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


FINDINGS_SCHEMA = pa.schema(
    [
        pa.field("rule_id", pa.string(), nullable=False),
        pa.field("severity", pa.string(), nullable=False),
        pa.field("file", pa.string()),  # null for institution-level findings
        pa.field("row", pa.int64()),  # 1-based data row, header excluded
        pa.field("column", pa.string()),
        pa.field("value", pa.string()),
        pa.field("message_zh", pa.string(), nullable=False),
        pa.field("message_en", pa.string(), nullable=False),
    ]
)


@dataclass(frozen=True)
class Finding:
    """A single finding, for the few places that produce them one at a time."""

    rule_id: str
    severity: Severity
    message_zh: str
    message_en: str
    file: str | None = None
    row: int | None = None
    column: str | None = None
    value: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "severity": str(self.severity),
            "file": self.file,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "message_zh": self.message_zh,
            "message_en": self.message_en,
        }


def true_rows(mask: pa.ChunkedArray | pa.Array | np.ndarray) -> pa.Array:
    """The 0-based rows where a boolean mask (numpy, or Arrow with null as false) is true. Most masks
    of a clean filing hold no true value: one ``any`` over the mask settles that, with no fill, no scan
    for positions and, for a numpy mask, no conversion to Arrow's bits."""
    if isinstance(mask, np.ndarray):
        if not mask.any():
            return _NO_ROWS
        return pa.array(np.flatnonzero(mask), pa.int64())
    if not pc.any(mask).as_py():  # null when empty or all null: no row either way
        return _NO_ROWS
    return pc.indices_nonzero(pc.fill_null(mask, False))


_NO_ROWS = pa.array([], pa.int64())


class Findings:
    """Collects findings as Arrow batches; single findings are buffered and batched on demand."""

    def __init__(self) -> None:
        self._batches: list[pa.RecordBatch] = []
        self._singles: list[Finding] = []

    def add(self, finding: Finding) -> None:
        self._singles.append(finding)

    def extend(self, findings: Iterable[Finding]) -> None:
        self._singles.extend(findings)

    def add_rows(
        self,
        *,
        rule_id: str,
        severity: Severity,
        file: str,
        column: str | None,
        mask: pa.ChunkedArray | pa.Array | np.ndarray,
        values: pa.ChunkedArray | pa.Array | None,
        message_zh: str,
        message_en: str,
    ) -> int:
        """Add one finding per row where ``mask`` is true (null is not); returns how many were added."""
        indices = true_rows(mask)
        n = len(indices)
        if n == 0:
            return 0
        if values is None:
            value_col = pa.nulls(n, pa.string())
        else:
            value_col = pc.take(values, indices)
            if pa.types.is_decimal(value_col.type):  # exact numbers show as their shortest decimal text
                value_col = decimal_text(value_col)
            elif not pa.types.is_string(value_col.type):
                value_col = pc.cast(value_col, pa.string())
            value_col = _as_array(value_col)
        rows = pc.add(pc.cast(indices, pa.int64()), 1)
        self._batches.append(
            pa.RecordBatch.from_arrays(
                [
                    _repeat(rule_id, n),
                    _repeat(str(severity), n),
                    _repeat(file, n),
                    _as_array(rows),
                    _repeat(column, n),
                    value_col,
                    _repeat(message_zh, n),
                    _repeat(message_en, n),
                ],
                schema=FINDINGS_SCHEMA,
            )
        )
        return n

    def add_values(
        self,
        *,
        rule_id: str,
        severity: Severity,
        file: str | None,
        column: str | None,
        values: pa.Array | pa.ChunkedArray,
        message_zh: str,
        message_en: str,
    ) -> int:
        """One finding per value, without a row: for things the filing lacks (BIZ-010's vanished ids)."""
        n = len(values)
        if n == 0:
            return 0
        value_col = _as_array(values if pa.types.is_string(values.type) else pc.cast(values, pa.string()))
        self._batches.append(
            pa.RecordBatch.from_arrays(
                [_repeat(rule_id, n), _repeat(str(severity), n), _repeat(file, n), pa.nulls(n, pa.int64()),
                 _repeat(column, n), value_col, _repeat(message_zh, n), _repeat(message_en, n)],
                schema=FINDINGS_SCHEMA,
            )
        )
        return n

    def extend_table(self, table: pa.Table) -> None:
        for batch in table.cast(FINDINGS_SCHEMA).to_batches():
            self._batches.append(batch)

    def to_table(self) -> pa.Table:
        batches = list(self._batches)
        if self._singles:
            batches.append(
                pa.RecordBatch.from_pylist([f.as_dict() for f in self._singles], schema=FINDINGS_SCHEMA)
            )
        if not batches:
            return FINDINGS_SCHEMA.empty_table()
        return pa.Table.from_batches(batches, schema=FINDINGS_SCHEMA)

    def count(self, severity: Severity | None = None) -> int:
        table = self.to_table()
        if severity is None:
            return table.num_rows
        return pc.sum(pc.equal(table["severity"], str(severity))).as_py() or 0

    def has_errors(self) -> bool:
        return self.count(Severity.ERROR) > 0


def _repeat(value: str | None, n: int) -> pa.Array:
    return pa.repeat(pa.scalar(value, pa.string()), n)


def _as_array(values: pa.ChunkedArray | pa.Array) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    return values


def sort_findings(table: pa.Table) -> pa.Table:
    """A stable, readable order: by file, row, rule."""
    return table.sort_by([("file", "ascending"), ("row", "ascending"), ("rule_id", "ascending")])
