"""The rule engine: run the phases of rules.md in order over one filing.

One library, three doors: `danbao check`, the Dagster assets and the portal all call ``validate``.
A later phase runs only when the earlier ones found no error, so that a guarantor is not buried in
consequences of one broken column.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from validations.context import Institution, now_beijing
from validations.filing import RawFiling
from validations.findings import Findings, Severity
from validations.parse import ParsedFile
from validations.phases.common import run_phases
from validations.phases.consistency import consistency_checks
from validations.phases.format import check_registry_and_period, parse_files
from validations.phases.schema import schema_checks
from validations.prudential import ReferenceData, evaluate
from validations.results import Phase4Outcome

# what phases 2-4 group or look rows up by besides the code lists (SCH-007, BIZ-011, the per-party
# measures, the negative list, the district): encoded in phase 1, beside each column's parse
GROUPED_BY = {"guarantees": ("party_id", "related_group_id", "industry_code", "district_code")}


class FilingStatus(StrEnum):
    REJECTED = "rejected"
    NEEDS_CONFIRMATION = "needs_confirmation"
    ACCEPTED = "accepted"


@dataclass
class CheckResult:
    institution_id: str | None
    period: str | None
    template_version: str | None
    status: FilingStatus
    findings: pa.Table
    phases_run: list[int]
    tables: dict[str, pa.Table] = field(default_factory=dict)  # typed template tables when not rejected
    institution: Institution | None = None
    phase4: Phase4Outcome | None = None  # indicators, grade with measures, subsidies; None when rejected

    @property
    def indicators(self) -> dict[str, Any] | None:
        return self.phase4.indicators if self.phase4 else None

    @property
    def grade(self) -> str | None:
        return self.phase4.grade.grade if self.phase4 else None

    def counts(self) -> dict[str, int]:
        severities = self.findings["severity"]
        return {
            str(s): int(pc.sum(pc.equal(severities, str(s))).as_py() or 0) for s in (Severity.ERROR, Severity.WARNING)
        }

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "institution_id": self.institution_id,
            "period": self.period,
            "template_version": self.template_version,
            "status": str(self.status),
            "findings": self.findings.to_pylist(),
            "indicators": self.indicators,
            "grade": self.grade,
        }


def validate(
    filing: RawFiling,
    registry: Mapping[str, Institution],
    *,
    now: dt.datetime | None = None,
    previous_guarantees: pa.Table | None = None,
    reference: ReferenceData | None = None,
    progress: Callable[[str], None] | None = None,
    with_statistics: bool = True,
) -> CheckResult:
    """Check one filing through the four phases; say whether it is rejected, needs confirmation or is
    accepted, and (unless rejected) compute its indicators and supervisory grade.

    ``previous_guarantees`` is the guarantees table of the guarantor's last accepted filing (BIZ-010);
    ``reference`` the dated reference data (the shipped files by default); ``progress`` is told each phase.
    ``with_statistics=False`` leaves out phase 4's statistical sections (the CBRC report's; the
    findings, status, indicators and grade do not depend on them): for a check that publishes nothing."""
    now = now or now_beijing()
    say = progress or (lambda message: None)
    say("phase 1: format and cell types")
    findings = Findings()
    findings.extend_table(filing.findings.to_table())
    institution, period = check_registry_and_period(filing, registry, now, findings)
    parsed = parse_files(filing, findings, GROUPED_BY)
    phases = [1]
    if not findings.has_errors() and institution is not None and period is not None:
        # phase 3 is checked beside phase 2 and counts only if phase 2 found no error
        say("phase 2: schema")
        concluded = run_phases(
            [schema_checks(parsed, period.end), consistency_checks(parsed, period, institution, previous_guarantees)],
            findings, max(p.num_rows for p in parsed.values()) if parsed else 0,
            starting=lambda k: say("phase 3: consistency") if k == 1 else None,
        )
        phases += [2, 3][:concluded]
    rejected = findings.has_errors() or phases[-1] < 3
    outcome = None
    if not rejected:
        # PRU/NEG errors do not reject: they are findings about the guarantor, reported and graded
        phases.append(4)
        say("phase 4: prudential, negative list, policy, subsidy")
        for file in parsed.values():  # phase 4 reads typed values only: the filed text can go
            file.release_text()
        tables = _typed_tables(parsed)
        result = evaluate(tables["guarantees"], tables["financials"], tables.get("compensations"),
                          institution, period, reference, previous_guarantees, codes=parsed["guarantees"].codes,
                          with_statistics=with_statistics)
        findings.extend_table(result.findings.to_table())
        outcome = Phase4Outcome(result.indicators, result.grade(findings.to_table()), result.subsidies,
                                result.statistics)
    table = findings.to_table()
    if rejected:
        status = FilingStatus.REJECTED
    elif pc.any(pc.equal(table["severity"], str(Severity.WARNING))).as_py():
        status = FilingStatus.NEEDS_CONFIRMATION  # each warning is confirmed with a justification
    else:
        status = FilingStatus.ACCEPTED
    return CheckResult(
        institution_id=filing.institution_id,
        period=filing.period,
        template_version=filing.template_version,
        status=status,
        findings=table,
        phases_run=phases,
        tables={} if rejected else _typed_tables(parsed),
        institution=institution,
        phase4=outcome,
    )


def _typed_tables(parsed: dict[str, ParsedFile]) -> dict[str, pa.Table]:
    return {name: p.typed for name, p in parsed.items()}
