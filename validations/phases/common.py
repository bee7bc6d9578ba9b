"""Helpers shared by the row-level phases: turn a boolean mask into findings of one rule; run a phase's
independent checks side by side."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

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


Check = Callable[[Findings], None]  # one independent check of a phase, adding what it finds

_PARALLEL_ROWS = 1 << 16  # below this, a thread costs more than it saves


def run_checks(checks: Sequence[Check], findings: Findings, rows: int) -> None:
    """Each check into its own findings, added to ``findings`` in the order of ``checks`` whichever ran
    first. On a large filing they run on as many threads as the machine has cores: the checks are
    column-wise Arrow and numpy passes, which release the GIL, so one core no longer waits for the other."""
    workers = min(len(checks), os.cpu_count() or 1)
    if rows < _PARALLEL_ROWS or workers < 2:
        for check in checks:
            check(findings)
        return

    def run(check: Check) -> Findings:
        found = Findings()
        check(found)
        return found

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="checks") as pool:
        for found in pool.map(run, checks):
            findings.extend_table(found.to_table())
