"""Helpers shared by the row-level phases: turn a boolean mask into findings of one rule."""

from __future__ import annotations

import pyarrow as pa

from validations.catalog import rule
from validations.findings import Findings


def flag(
    findings: Findings,
    rule_id: str,
    file: str,
    column: str | None,
    mask: pa.Array | pa.ChunkedArray,
    values: pa.Array | pa.ChunkedArray | None,
    detail_zh: str = "",
    detail_en: str = "",
) -> int:
    """Add a finding of ``rule_id`` for every row where ``mask`` is true."""
    r = rule(rule_id)
    zh, en = r.messages(detail_zh, detail_en)
    return findings.add_rows(
        rule_id=r.id, severity=r.severity, file=file, column=column, mask=mask, values=values,
        message_zh=zh, message_en=en,
    )
