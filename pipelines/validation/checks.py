"""The three phase checks of ``validation_result`` (rules.md phases 1–3), as outcomes that the asset and
the batch op both report: passed when the phase ran and found no error; warnings are metadata."""

from __future__ import annotations

from typing import Any

from dagster import MetadataValue

from validations.catalog import rule
from validations.engine import CheckResult

#: (phase, check name, what it covers)
PHASES = (
    (1, "phase_1_format", "Phase 1 — format (FMT): manifest, files, encodings, columns, types, registry, period."),
    (2, "phase_2_schema", "Phase 2 — schema (SCH): required values, codes, check characters, ranges, duplicates."),
    (3, "phase_3_consistency", "Phase 3 — consistency (BIZ): dates, balances, compensations, financials."),
)


def phase_outcomes(result: CheckResult) -> list[tuple[str, bool, dict[str, Any]]]:
    """(check name, passed, metadata) for each phase."""
    by_phase: dict[int, dict[str, dict[str, int]]] = {1: {}, 2: {}, 3: {}}
    counted = result.findings.group_by(["rule_id", "severity"]).aggregate([([], "count_all")])
    for rule_id, severity, n in zip(*(counted[c].to_pylist() for c in ("rule_id", "severity", "count_all")), strict=True):
        by_phase.setdefault(_phase_of(rule_id), {}).setdefault(severity, {})[rule_id] = n
    outcomes = []
    for phase, name, _ in PHASES:
        errors = by_phase.get(phase, {}).get("error", {})
        warnings = by_phase.get(phase, {}).get("warning", {})
        ran = phase in result.phases_run
        metadata: dict[str, Any] = {
            "ran": ran,
            "errors": sum(errors.values()),
            "warnings": sum(warnings.values()),
            "errors_by_rule": MetadataValue.json(errors),
            "warnings_by_rule": MetadataValue.json(warnings),
        }
        if not ran:
            metadata["why_not_run"] = "an earlier phase found errors"
        outcomes.append((name, ran and not errors, metadata))
    return outcomes


def _phase_of(rule_id: str) -> int:
    try:
        return rule(rule_id).phase
    except KeyError:
        return {"FMT": 1, "SCH": 2, "BIZ": 3}.get(rule_id.split("-")[0], 4)
