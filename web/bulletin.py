"""The period bulletin for regulators (通报, 巴南府发〔2017〕30号 五(十一), 五(十二), 六(十四), 六(十六)):
grades with their measures and every guarantor's third-party rating, early warnings, the joint-discipline
list, the district roll-up, and the guarantors in run-off — one document per period.

Built from the published datasets only (``grades``, ``indicators``, ``findings``, ``discipline_list``)
and the registry (names, ratings, the systemic flag, ``exited``), never from raw filings: the bulletin
says what was published, version for version. Run-off (六(十四)) is read from what exists (template 1.1
carries no run-off flag, docs/readings.md "Run-off"): a guarantor the registry lists as ``exited`` whose
last published indicators still carry guarantees in force.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from connectors.datasets import DatasetStore
from connectors.publish import cbrc
from validations.catalog import CATALOG
from validations.prudential.rollup import period_rollup

GRADES = ("A", "B", "C", "D")
WARNING_PREFIXES = ("EWS-", "BNK-")  # rules 1.2-draft: early warning and bank cooperation (五(十), 五(十二))


@dataclass
class Bulletin:
    period: str | None
    periods: list[str]
    grades: list[dict[str, Any]] = field(default_factory=list)
    distribution: dict[str, int] = field(default_factory=dict)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    discipline: list[dict[str, Any]] = field(default_factory=list)
    rollup: dict[str, Any] = field(default_factory=dict)
    run_off: list[dict[str, Any]] = field(default_factory=list)
    systemic: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"document": "danbao.bulletin", "version": "1.0", "period": self.period, "grades": self.grades,
                "grade_distribution": self.distribution, "warnings": self.warnings, "discipline_list": self.discipline,
                "district_rollup": self.rollup, "run_off": self.run_off, "systemic": self.systemic}


def _rows(table: pa.Table | None) -> list[dict[str, Any]]:
    return [] if table is None else table.to_pylist()


def build(store: DatasetStore, registry: list[Any], period: str | None) -> Bulletin:
    """The bulletin of ``period`` (default: the latest period with published grades)."""
    periods = sorted({p for p, _ in store.partitions("grades")})
    if period not in periods:
        period = periods[-1] if periods else None
    bulletin = Bulletin(period, periods)
    if period is None:
        return bulletin
    by_id = {i.institution_id: i for i in registry}
    grades = store.read("grades", period)
    indicators = store.read("indicators", period)
    leverage = {} if indicators is None else dict(zip(
        indicators["institution_id"].to_pylist(),
        indicators["leverage_ratio"].to_pylist() if "leverage_ratio" in indicators.column_names else [None] * indicators.num_rows,
        strict=True))
    for row in sorted(_rows(grades), key=lambda r: (r["grade"], r["institution_id"])):
        entry = by_id.get(row["institution_id"])
        bulletin.grades.append({
            "institution_id": row["institution_id"], "name": entry.name if entry else "",
            "grade": row["grade"], "measures_zh": row.get("measures_zh"), "measures_en": row.get("measures_en"),
            "late_filing": bool(row.get("late_filing")), "leverage_ratio": leverage.get(row["institution_id"]),
            "rating_agency": entry.rating_agency if entry else None,
            "rating_grade": entry.rating_grade if entry else None,
            "rating_date": entry.rating_date if entry else None,
            "systemic": bool(entry.systemic) if entry else False,
        })  # fmt: skip
    bulletin.distribution = {g: sum(1 for r in bulletin.grades if r["grade"] == g) for g in GRADES}
    bulletin.warnings = _warnings(store.read("findings", period, columns=["institution_id", "rule_id"]), by_id)
    bulletin.discipline = [{**r, "name": by_id[r["institution_id"]].name if r["institution_id"] in by_id else ""}
                           for r in _rows(store.read("discipline_list", period))]
    governments = [i.institution_id for i in registry if str(i.kind) == "government"]
    bulletin.rollup = period_rollup(
        indicators if indicators is not None else pa.table({"institution_id": pa.array([], pa.string())}),
        grades if grades is not None else pa.table({"grade": pa.array([], pa.string())}),
        government_ids=governments)
    bulletin.run_off = run_off(store, registry, period)
    bulletin.systemic = [{"institution_id": i.institution_id, "name": i.name, "status": str(i.status)}
                         for i in registry if i.systemic]
    return bulletin


def _warnings(findings: pa.Table | None, by_id: dict[str, Any]) -> list[dict[str, Any]]:
    """The period's early-warning and bank-cooperation findings, counted per guarantor and rule."""
    if findings is None or findings.num_rows == 0:
        return []
    mask = pc.or_(*(pc.starts_with(findings["rule_id"], p) for p in WARNING_PREFIXES))
    picked = findings.filter(mask)
    if picked.num_rows == 0:
        return []
    counts = picked.group_by(["institution_id", "rule_id"]).aggregate([("rule_id", "count")])
    out = []
    for row in counts.to_pylist():
        rule = CATALOG.get(row["rule_id"])
        entry = by_id.get(row["institution_id"])
        out.append({"institution_id": row["institution_id"], "name": entry.name if entry else "",
                    "rule_id": row["rule_id"], "count": int(row["rule_id_count"]),
                    "title_zh": rule.title_zh if rule else "", "title_en": rule.title_en if rule else ""})
    return sorted(out, key=lambda r: (r["rule_id"], r["institution_id"]))


def run_off(store: DatasetStore, registry: list[Any], period: str) -> list[dict[str, Any]]:
    """Guarantors the registry lists as ``exited``, with their last published period up to ``period``
    and the exposure still in force then (the indicators dataset), read as the CBRC summary reads its
    reports (``cbrc.run_off_line``): in run-off while that exposure is above zero, unknown (null) when
    nothing of theirs was ever published."""
    exited = [i for i in registry if str(i.status) == "exited"]
    if not exited:
        return []
    indicators = store.read("indicators")
    out = []
    for entry in exited:
        last: dict[str, Any] | None = None
        if indicators is not None:
            mine = indicators.filter(pc.and_(pc.equal(indicators["institution_id"], entry.institution_id),
                                             pc.less_equal(indicators["period"], period)))
            if mine.num_rows:
                row = mine.sort_by([("period", "descending")]).slice(0, 1).to_pylist()[0]
                last = {"period": row["period"], "indicators": row}
        out.append({**cbrc.run_off_line(entry.institution_id, entry.name, last), "systemic": bool(entry.systemic)})
    return out
