"""Phase 4 of one filing: measures, rules, indicators, subsidy, in one call.

``evaluate`` expects tables that passed phases 1–3 (typed as the template says, required values
present and valid) and uses the reference values in force on the period's last day.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import pyarrow as pa

from validations.codes import Codes
from validations.context import Institution, Period
from validations.findings import Findings
from validations.prudential import early_warning, grades, indicators, rules, statistics, subsidy
from validations.prudential.measures import Measures, Rows, at_once, measure
from validations.prudential.reference import ReferenceData, ReferenceValues

T = TypeVar("T")

_DEFAULT: ReferenceData | None = None
_SIDE_ROWS = 1 << 16  # below this, a thread costs more than it saves


def default_reference() -> ReferenceData:
    """The shipped reference files, read once per process."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = ReferenceData.load()
    return _DEFAULT


@dataclass(frozen=True)
class Phase4Result:
    findings: Findings  # PRU/NEG/POL/SUB findings of this filing
    indicators: dict[str, Any]  # outputs.md §1 ``indicators``
    subsidies: pa.Table  # subsidy.SUBSIDY_SCHEMA: guarantee_id, row, program, days, amount
    measures: Measures
    reference: ReferenceValues  # what was in force on the period's last day
    statistics: dict[str, Any] | None = None  # outputs.md 2.0 §4's statistical sections (statistics.SECTIONS)

    def grade(self, findings_table: pa.Table | None = None) -> grades.GradeResult:
        """Section 5 grade from ``findings_table`` (e.g. all of the filing's findings), by default from
        this phase's own findings."""
        return grades.grade(self.findings.to_table() if findings_table is None else findings_table)


def evaluate(
    guarantees: pa.Table,
    financials: pa.Table,
    compensations: pa.Table | None,
    institution: Institution,
    period: Period,
    reference: ReferenceData | None = None,
    previous_guarantees: pa.Table | None = None,
    *,
    codes: Codes | None = None,
    with_statistics: bool = True,
) -> Phase4Result:
    """Phase 4 of one filing that passed phases 1–3; ``reference`` defaults to the shipped files.
    ``previous_guarantees`` (the last accepted filing's) serves EWS-002 and the guarantee flows; ``codes``
    are the guarantees' dictionary codes that phases 2 and 3 already computed (computed here without).
    ``with_statistics=False`` leaves out the statistical sections (``statistics`` is None): they feed
    the CBRC report only, and a check that publishes nothing has no use for them."""
    ref = (reference or default_reference()).as_of(period.end)
    # on a large filing a second thread takes what does not need the rules' findings: the statistical
    # sections' table work and the subsidies (which need only the rows) while this one measures, then the
    # rest of the statistics while it checks the rules, or, without statistics, the early warnings and
    # the indicators (each side about as long as the other; Arrow and numpy release the GIL for most of
    # it); findings are added in the same order either way
    large = guarantees.num_rows >= _SIDE_ROWS
    side = ThreadPoolExecutor(max_workers=1, thread_name_prefix="phase4") if large else None

    def run(function: Callable[..., T], *args: Any, beside: bool = True) -> Callable[[], T]:
        """``function(*args)`` on the side thread (its result when asked for), or here when asked for."""
        if side is None or not beside:
            return lambda: function(*args)
        return side.submit(function, *args).result

    # without the statistics, the side thread also takes parts of the rows' and the measures' work
    beside = (lambda function: side.submit(function).result) if side is not None and not with_statistics \
        else at_once
    try:
        tables = run(statistics.from_tables, guarantees, compensations, previous_guarantees, period) \
            if with_statistics else None
        rows = Rows.of(guarantees, institution, codes, beside)
        paying = run(subsidy.compute, rows, period, ref)  # reads the rows only
        m = measure(rows, financials, ref, beside)
        warned = Findings()
        warnings = run(early_warning.check, m, compensations, previous_guarantees, institution, period, ref, warned,
                       beside=not with_statistics)
        paid = paying()
        values = run(indicators.compute, m, compensations, institution, period, ref, paid, beside=not with_statistics)
        sections = run(lambda: statistics.compute(m, financials, compensations, previous_guarantees, period, ref,
                                                  tables())) if tables else None
        findings = Findings()
        rules.check(m, paid, institution, period, ref, findings)
        warnings()
        findings.extend_table(warned.to_table())
        found_values = values()
        found_sections = sections() if sections else None
    finally:
        if side:
            side.shutdown(wait=True)
    return Phase4Result(findings=findings, indicators=found_values, subsidies=paid.table, measures=m, reference=ref,
                        statistics=found_sections)
