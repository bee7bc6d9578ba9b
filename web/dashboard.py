"""The regulator's dashboard, computed from the published datasets only (indicators, grades, subsidies),
never from raw filings: what the charts show is what was published, version for version."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from markupsafe import Markup

from connectors.datasets import DatasetStore
from web import charts

HOUSEHOLD_TARGET = 0.75  # POL-001: 小微/三农 share of in-district households, 巴南府发〔2017〕30号 (二)
GRADES = ("A", "B", "C", "D")
GRADE_COLORS = ("#3a9a5b", "#2f6fb0", "#d9822b", "#c0392b")
PROGRAMS = {"sme_fee": "中小微企业 sme_fee", "rural_startup": "农村创业 rural_startup", "land_income": "土地收益 land_income"}


@dataclass
class Dashboard:
    periods: list[str]
    period: str | None
    charts: dict[str, Markup] = field(default_factory=dict)
    late: list[dict[str, Any]] = field(default_factory=list)  # the selected period's late filers
    guarantors: int = 0


def _rows(table: pa.Table | None, period: str | None = None) -> list[dict[str, Any]]:
    if table is None:
        return []
    if period is not None and "period" in table.column_names:
        table = table.filter(pc.equal(table["period"], period))
    return table.to_pylist()


def _label(names: dict[str, str], institution_id: str) -> tuple[str, str]:
    """The guarantor's full name (never cut: the charts make room for it) and its id."""
    return names.get(institution_id) or institution_id, institution_id


def build(store: DatasetStore, names: dict[str, str], period: str | None) -> Dashboard:
    indicators = store.read("indicators")
    grades = store.read("grades")
    periods = sorted({*_column(indicators, "period"), *_column(grades, "period")})
    if period not in periods:
        period = periods[-1] if periods else None
    board = Dashboard(periods, period)
    now = _rows(indicators, period)
    board.guarantors = len({r["institution_id"] for r in now})

    leverage = []
    for r in sorted(now, key=lambda r: r["institution_id"]):
        ratio, cap = r.get("leverage_ratio"), r.get("leverage_cap")
        if ratio is not None and cap:
            name, ident = _label(names, r["institution_id"])
            leverage.append((name, ident, float(ratio), float(cap)))
    board.charts["leverage"] = charts.leverage("leverage", "杠杆倍数与上限 Leverage against cap", leverage)

    graded = _rows(grades, period) or now
    counts = {g: sum(1 for r in graded if r.get("grade") == g) for g in GRADES}
    board.charts["grades"] = charts.columns("grades", "监管评级分布 Grade distribution",
                                            [(g, float(counts[g])) for g in GRADES],
                                            unit="机构数 guarantors", colors=GRADE_COLORS, integer=True)

    series = []
    by_guarantor: dict[str, dict[str, float]] = {}
    for r in _rows(indicators):
        share = r.get("small_micro_agri_household_share")
        if share is not None:
            by_guarantor.setdefault(r["institution_id"], {})[r["period"]] = float(share)
    for institution_id in sorted(by_guarantor):
        series.append((_label(names, institution_id)[0], by_guarantor[institution_id]))
    board.charts["household_share"] = charts.share(
        "household_share", "小微/三农户数占比与 75% 目标 Small-micro & agri household share against the 75% target",
        periods, series, HOUSEHOLD_TARGET)

    board.charts["subsidies"] = charts.columns(
        "subsidies", "担保费补贴（按项目）Fee subsidies by program",
        [(label, by_program) for label, by_program in _subsidies(store, now, period)], unit="元 yuan", money=True)

    late_by_period = {p: 0 for p in periods}
    for r in _rows(grades):
        if r.get("late_filing"):
            late_by_period[r["period"]] = late_by_period.get(r["period"], 0) + 1
            if r["period"] == period:
                board.late.append({"institution_id": r["institution_id"], "name": names.get(r["institution_id"], ""),
                                   "grade": r.get("grade")})
    board.charts["late"] = charts.columns("late", "逾期报送机构数 Late filers per period",
                                          [(p, float(n)) for p, n in sorted(late_by_period.items())],
                                          unit="机构数 guarantors", colors=("#b8455a",), integer=True)
    return board


def _column(table: pa.Table | None, name: str) -> list[Any]:
    return table[name].to_pylist() if table is not None and name in table.column_names else []


def _subsidies(store: DatasetStore, indicators: list[dict[str, Any]], period: str | None) -> list[tuple[str, float]]:
    """Per program: the published ``subsidies`` rows' amounts, else the indicators' per-program sums."""
    table = store.read("subsidies", period) if period else None
    totals = dict.fromkeys(PROGRAMS, 0.0)
    if table is not None and {"program", "amount"} <= set(table.column_names):
        for program, amount in zip(table["program"].to_pylist(), table["amount"].to_pylist(), strict=True):
            if program in totals and amount is not None:
                totals[program] += float(amount)
    else:
        for r in indicators:
            for program in PROGRAMS:
                totals[program] += float(r.get(f"subsidy_{program}") or 0.0)
    return [(PROGRAMS[p], round(v, 2)) for p, v in totals.items()]
