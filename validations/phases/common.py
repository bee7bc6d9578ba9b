"""Helpers shared by the row-level phases: turn a boolean mask into findings of one rule; run a phase's
independent checks, and the checks of consecutive phases, side by side."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pyarrow as pa

from validations.catalog import rule
from validations.findings import Findings
from validations.side_by_side import in_order


def flag(
    findings: Findings,
    rule_id: str,
    file: str,
    column: str | None,
    mask: pa.Array | pa.ChunkedArray | np.ndarray,
    values: pa.Array | pa.ChunkedArray | None,
    detail_zh: str = "",
    detail_en: str = "",
) -> int:
    """Add a finding of ``rule_id`` for every row where ``mask`` (numpy or Arrow) is true."""
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


def run_phases(phases: Sequence[Sequence[Check]], findings: Findings, rows: int,
               starting: Callable[[int], None] | None = None) -> int:
    """The checks of consecutive phases side by side (on both cores for a large filing), concluding
    exactly as if each phase had run only after the ones before it found no error: a phase's findings
    are added, in the order of its checks, only when the earlier phases added no error, and a check of
    a later phase that failed is raised only then (it may have met what an earlier phase refuses, such
    as an empty required value). So the single-core tail of one phase overlaps the next one's checks.
    ``starting(k)`` is told as phase ``k`` (0-based) is concluded; returns how many phases were."""
    work = [(k, check) for k, checks in enumerate(phases) for check in checks]

    def run(item: tuple[int, Check]) -> Findings | Exception:
        _, check = item
        found = Findings()
        try:
            check(found)
        except Exception as exc:  # judged below: a later phase's failure may not count
            return exc
        return found

    results = in_order(run, work, rows, "checks")
    concluded = 0
    for k in range(len(phases)):
        if k and findings.has_errors():
            break
        if starting is not None:
            starting(k)
        for (phase, _), result in zip(work, results, strict=True):
            if phase != k:
                continue
            if isinstance(result, Exception):
                raise result
            findings.extend_table(result.to_table())
        concluded += 1
    return concluded
