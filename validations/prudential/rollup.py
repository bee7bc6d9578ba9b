"""Per-period roll-ups across guarantors: district totals against the 75% target, the
subsidy total by program, and the grade distribution, computed column-wise over the period's indicators.

The district share is households over households (Σ small-micro-and-三农 households / Σ in-district
households of the period's government guarantors, POL-001's population), not an average of shares, so a
large guarantor weighs as much as its households do.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

GRADES = ("A", "B", "C", "D")


def _sum(table: pa.Table, column: str) -> float:
    if column not in table.column_names or table.num_rows == 0:
        return 0.0
    return float(pc.sum(table[column]).as_py() or 0.0)


def period_rollup(indicators: pa.Table, grades: pa.Table, *, household_target: float = 0.75,
                  government_ids: list[str] | None = None) -> dict[str, Any]:
    """One period's totals. ``indicators``: the published indicators dataset of the period (one row per
    guarantor); ``grades``: the grades dataset (one row per guarantor, late filers included as D);
    ``government_ids``: the guarantors POL-001 applies to (all, when None)."""
    population = indicators
    if government_ids is not None and indicators.num_rows:
        population = indicators.filter(pc.is_in(indicators["institution_id"], pa.array(government_ids, pa.string())))
    households = _sum(population, "in_district_households")
    small_micro = _sum(population, "small_micro_agri_households")
    share = small_micro / households if households else None
    subsidies = {
        name.removeprefix("subsidy_"): round(_sum(indicators, name), 2)
        for name in indicators.column_names
        if name.startswith("subsidy_") and name != "subsidy_amount"
    }
    distribution = dict.fromkeys(GRADES, 0)
    if grades.num_rows:
        counts = grades.group_by("grade").aggregate([("grade", "count")])
        for grade, count in zip(counts["grade"].to_pylist(), counts["grade_count"].to_pylist(), strict=True):
            distribution[grade] = int(count)
    return {
        "guarantors": indicators.num_rows,
        "in_district_households": int(households),
        "small_micro_agri_households": int(small_micro),
        "small_micro_agri_household_share": share,
        "household_target": household_target,
        "meets_household_target": None if share is None else share >= household_target,
        "financing_exposure": _sum(indicators, "financing_exposure"),
        "subsidy_total": round(_sum(indicators, "subsidy_amount"), 2),
        "subsidy_by_program": subsidies,
        "grade_distribution": distribution,
        "late_filers": int(pc.sum(grades["late_filing"]).as_py() or 0) if "late_filing" in grades.column_names else 0,
    }
