"""Supervisory grade (分类监管, rules.md section 5; 巴南府发〔2017〕30号 (十三)) and the discipline list.

The grade reads only the phase-4 rule IDs of a findings table: D for an error of PRU-001, PRU-004,
PRU-006, NEG-003 or NEG-004, C for any other PRU/NEG error, B for a POL warning or a PRU-005, PRU-008,
NEG-002 or NEG-005 warning, A otherwise (SUB-001 and phase 1–3 warnings do not grade). A guarantor with
no accepted filing by the deadline (the ``filing_deadline_day`` of the following month) is graded D;
``grade(None)`` says so. ``discipline_list`` puts on the 失信联合惩戒 list ((十一)) a guarantor graded D
in two consecutive months.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from validations.context import Period
from validations.prudential.reference import ReferenceValues

D_ERRORS = frozenset({"PRU-001", "PRU-004", "PRU-006", "NEG-003", "NEG-004"})
B_WARNINGS = frozenset({"PRU-005", "PRU-008", "NEG-002", "NEG-005"})
NO_FILING = "no accepted filing by the deadline"

MEASURES: dict[str, tuple[str, str]] = {
    "D": (
        "监管约谈；限制自有资金投资比例；15日内整改；列为重点关注机构",
        "supervisory interview; own-fund investment ratio restricted; rectify within 15 days; "
        "listed as an institution under close watch (重点关注机构)",
    ),
    "C": ("监管约谈；30日内整改", "supervisory interview; rectify within 30 days"),
    "B": ("无", "none"),
    "A": (
        "可享受激励措施：提高放大倍数、扩大业务范围、资金使用",
        "eligible for incentives: higher leverage, business expansion, use of funds",
    ),
}


@dataclass(frozen=True)
class GradeResult:
    grade: str  # A, B, C or D
    measures_zh: str
    measures_en: str
    reasons: tuple[str, ...]  # the rule IDs that set the grade, or NO_FILING


def _result(grade: str, reasons: tuple[str, ...]) -> GradeResult:
    zh, en = MEASURES[grade]
    return GradeResult(grade, zh, en, reasons)


def grade(findings: pa.Table | None) -> GradeResult:
    """The grade of an accepted filing's findings; ``None`` means no accepted filing by the deadline."""
    if findings is None:
        return _result("D", (NO_FILING,))
    errors, warnings = (_rules_with(findings, severity) for severity in ("error", "warning"))
    if found := errors & D_ERRORS:
        return _result("D", tuple(sorted(found)))
    if found := {r for r in errors if r.startswith(("PRU-", "NEG-"))}:
        return _result("C", tuple(sorted(found)))
    if found := {r for r in warnings if r.startswith("POL-") or r in B_WARNINGS}:
        return _result("B", tuple(sorted(found)))
    return _result("A", ())


def _rules_with(findings: pa.Table, severity: str) -> set[str]:
    """The distinct rule IDs of the findings of one severity (a compute kernel: a group-by would load
    Arrow's query engine into every check for a few distinct pairs)."""
    rule_ids = pc.filter(findings["rule_id"], pc.equal(findings["severity"], severity))
    return set(pc.unique(rule_ids).to_pylist())


def filing_deadline(period: Period, ref: ReferenceValues) -> dt.date:
    """The last day to file ``period``: day ``filing_deadline_day`` of the following month."""
    following = period.next()
    return dt.date(following.year, following.month, ref.integer("filing_deadline_day"))


def is_late(period: Period, accepted_on: dt.date | None, ref: ReferenceValues) -> bool:
    """No filing accepted by the deadline (Beijing dates): the period is graded D (``grade(None)``)."""
    return accepted_on is None or accepted_on > filing_deadline(period, ref)


@dataclass(frozen=True, order=True)
class DisciplineEntry:
    institution_id: str
    previous: Period  # the first of the two consecutive D periods
    period: Period  # the latest period graded D right after another D


def discipline_list(
    grades_by_period: Mapping[Period | str, Mapping[str, str | GradeResult]],
) -> list[DisciplineEntry]:
    """Guarantors graded D in two consecutive periods, each with its latest such pair, by id.

    ``grades_by_period`` maps a period to {institution_id: grade}; a period that is absent for a
    guarantor breaks the run (the caller records a missing filing as D, see ``grade(None)``).
    """
    d_periods: dict[str, set[Period]] = {}
    for key, grades in grades_by_period.items():
        period = key if isinstance(key, Period) else Period.parse(key)
        for institution_id, value in grades.items():
            if (value.grade if isinstance(value, GradeResult) else value) == "D":
                d_periods.setdefault(institution_id, set()).add(period)
    entries = []
    for institution_id, periods in d_periods.items():
        pairs = [p for p in periods if p.previous() in periods]
        if pairs:
            latest = max(pairs)
            entries.append(DisciplineEntry(institution_id, latest.previous(), latest))
    return sorted(entries)
