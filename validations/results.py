"""What the rule engine concludes about a filing, as typed values that travel.

Phase 4 runs once per submission, inside ``validations.engine.validate``; its conclusions
(``Phase4Outcome``) go with the filing from then on. ``AcceptedFiling`` is an accepted filing with
everything the engine concluded: the typed tables, every finding, the indicators, the grade with its
measures and the subsidies. Datasets, the PBOC feed, the CBRC report and the portal all take it; none
of them computes any of it again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import pyarrow as pa

from validations.context import Institution
from validations.prudential.grades import GradeResult


class NotPublishableError(ValueError):
    """The filing is not an accepted one with phase-4 results."""


@dataclass(frozen=True)
class Phase4Outcome:
    """Phase 4's conclusions: ``indicators`` (outputs.md §1), the grade with its measures and reasons
    (rules.md §5, from all of the filing's findings) and the per-row subsidies (rules.md §4)."""

    indicators: dict[str, Any]
    grade: GradeResult
    subsidies: pa.Table  # validations.prudential.subsidy.SUBSIDY_SCHEMA
    # outputs.md 2.0 §4's statistical sections; None for a result archived before they were computed
    statistics: dict[str, Any] | None = None


class EngineResult(Protocol):
    """What ``validations.engine.CheckResult`` offers (named here so that results do not import the engine)."""

    institution: Institution | None
    template_version: str | None
    tables: dict[str, pa.Table]
    findings: pa.Table
    phase4: Phase4Outcome | None


@dataclass(frozen=True)
class AcceptedFiling:
    """An accepted submission and everything the engine concluded about it."""

    institution: Institution  # as registered when the filing was validated
    period: str
    submission_id: int
    sequence: int
    accepted_at: dt.datetime | None
    template_version: str | None
    tables: Mapping[str, pa.Table]  # the typed template tables: guarantees, financials, compensations
    findings: pa.Table  # validations.findings.FINDINGS_SCHEMA, every phase
    outcome: Phase4Outcome

    @property
    def institution_id(self) -> str:
        return self.institution.institution_id

    @property
    def guarantees(self) -> pa.Table:
        return self.tables["guarantees"]

    @property
    def indicators(self) -> dict[str, Any]:
        return self.outcome.indicators

    @property
    def grade(self) -> GradeResult:
        return self.outcome.grade

    @property
    def subsidies(self) -> pa.Table:
        return self.outcome.subsidies

    @classmethod
    def of(cls, result: EngineResult, *, submission_id: int, sequence: int, period: str,
           accepted_at: dt.datetime | None) -> AcceptedFiling:
        """The engine's result for a submission that passed phases 1–3 (accepted, or to be once its
        warnings are confirmed)."""
        if result.phase4 is None or result.institution is None:
            raise NotPublishableError(f"submission {submission_id}: a rejected filing has no results to hand on")
        return cls(institution=result.institution, period=period, submission_id=submission_id, sequence=sequence,
                   accepted_at=accepted_at, template_version=result.template_version, tables=dict(result.tables),
                   findings=result.findings, outcome=result.phase4)
