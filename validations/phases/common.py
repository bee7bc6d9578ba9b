"""Helpers shared by the row-level phases: turn a boolean mask into findings of one rule; run a phase's
independent checks side by side."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pyarrow as pa

from validations.catalog import rule
from validations.findings import Findings
from validations.side_by_side import in_order


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


Check = Callable[[Findings], None]  # one independent check of a phase, adding what it finds


def run_checks(checks: Sequence[Check], findings: Findings, rows: int) -> None:
    """Each check into its own findings, added to ``findings`` in the order of ``checks`` whichever ran
    first (on both cores for a large filing: ``validations.side_by_side``)."""

    def run(check: Check) -> Findings:
        found = Findings()
        check(found)
        return found

    for found in in_order(run, checks, rows, "checks"):
        findings.extend_table(found.to_table())
