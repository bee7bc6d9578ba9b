"""Test helpers for phase 4: typed tables from the sample CSVs and hand-made rows, registry rows."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from schemas.template import FileSpec
from schemas.v1_0 import COMPENSATIONS, FINANCIALS, GUARANTEES
from tests.packages import SAMPLES
from validations.context import Institution, Period
from validations.prudential import Phase4Result, ReferenceData, evaluate

GOV_ID = "91500113095M34E68F"  # government, not focus
COMMERCIAL_ID = "915001133H3C325718"  # commercial, not focus
FOCUS_ID = "915001136455F73G3Y"  # mixed, focus_small_micro_agri


def cast_table(raw: pa.Table, spec: FileSpec) -> pa.Table:
    """Cast an all-string table to the template's types: "" → null, dates via date32, bools from
    "true"/"false" (what phases 1–3 hand to phase 4)."""
    columns = {}
    for column in spec.columns:
        text = raw[column.name] if column.name in raw.column_names else pa.nulls(raw.num_rows, pa.string())
        text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
        target = column.arrow_type
        if pa.types.is_boolean(target):
            columns[column.name] = pc.equal(pc.utf8_lower(text), "true")
        elif pa.types.is_date32(target):
            columns[column.name] = pc.cast(pc.strptime(text, "%Y-%m-%d", "s"), pa.date32())
        else:
            columns[column.name] = pc.cast(text, target)
    return pa.table(columns, schema=spec.arrow_schema)


def read_csv(path: Path, spec: FileSpec) -> pa.Table:
    options = pacsv.ConvertOptions(
        column_types={name: pa.string() for name in _header(path)}, strings_can_be_null=False
    )
    return cast_table(pacsv.read_csv(path, convert_options=options), spec)


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return next(csv.reader(handle))


def sample(name: str = "valid-2026-10") -> tuple[pa.Table, pa.Table, pa.Table | None]:
    root = SAMPLES / name
    compensations = root / "compensations.csv"
    return (
        read_csv(root / "guarantees.csv", GUARANTEES),
        read_csv(root / "financials.csv", FINANCIALS),
        read_csv(compensations, COMPENSATIONS) if compensations.exists() else None,
    )


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def institution(institution_id: str = GOV_ID, **changes: Any) -> Institution:
    """A row of the shared registry as an Institution, optionally changed (kind=, focus_small_micro_agri=)."""
    with (SAMPLES / "registry.csv").open(encoding="utf-8-sig", newline="") as handle:
        row = next(r for r in csv.DictReader(handle) if r["institution_id"] == institution_id)
    values: dict[str, Any] = dict(row)
    values["focus_small_micro_agri"] = row["focus_small_micro_agri"].lower() == "true"
    values.update(changes)
    return Institution(**values)


# ------------------------------------------------------------------ hand-made filings

GUARANTEE_DEFAULTS: dict[str, Any] = {
    "guarantee_id": None,
    "contract_no": None,
    "party_id_type": "USCC",
    "party_id": None,
    "party_name": "测试企业",
    "party_category": "large",
    "agri": False,
    "industry_code": "5191",
    "district_code": "500113",
    "related_group_id": None,
    "guarantor_relation": "none",
    "business_type": "loan",
    "bond_issuer_rating": None,
    "lender_code": "C1234",
    "loan_amount": 1_000_000.0,
    "guaranteed_amount": 1_000_000.0,
    "outstanding_balance": 1_000_000.0,
    "liability_share": 1.0,
    "fee_rate": 0.015,
    "loan_interest_rate": 0.045,
    "start_date": dt.date(2026, 1, 5),
    "maturity_date": dt.date(2027, 1, 5),
    "status": "active",
    "closed_date": None,
    "counter_guarantee": "none",
    "account_type": "policy",
    "subsidy_program": "none",
    "five_category": "1",
}


def guarantees(*rows: dict[str, Any]) -> pa.Table:
    """A typed guarantees table; each row overrides the defaults (a large, in-district, active loan
    of 1,000,000.00 at 1.5%); ids and party ids default to one per row."""
    records = []
    for number, row in enumerate(rows, start=1):
        record = {**GUARANTEE_DEFAULTS, "guarantee_id": f"G{number:04d}", "party_id": f"P{number:017d}"}
        record.update(row)
        records.append(record)
    return pa.Table.from_pylist(records, schema=GUARANTEES.arrow_schema)


FINANCIAL_DEFAULTS: dict[str, float] = {
    "paid_in_capital": 300_000_000.0,
    "net_assets": 100_000_000.0,
    "total_assets": 200_000_000.0,
    "equity_in_other_guarantors": 0.0,
    "receivable_compensation": 0.0,
    "class_i_assets": 80_000_000.0,  # 40% of the base 200,000,000
    "class_ii_assets": 80_000_000.0,  # I+II 80%
    "class_iii_assets": 40_000_000.0,  # 20%
    "unearned_premium_reserve": 1_000_000.0,
    "compensation_reserve": 1_000_000.0,
    "fee_income_ytd": 1_000_000.0,
}


def financials(**changes: float) -> pa.Table:
    """A one-row financials table that passes every PRU rule unless changed."""
    record: dict[str, Any] = {"period_end": dt.date(2026, 10, 31), **FINANCIAL_DEFAULTS, **changes}
    return pa.Table.from_pylist([record], schema=FINANCIALS.arrow_schema)


def compensations(*rows: dict[str, Any]) -> pa.Table:
    return pa.Table.from_pylist(list(rows), schema=COMPENSATIONS.arrow_schema)


# ------------------------------------------------------------------ running phase 4


def run(
    table: pa.Table,
    fin: pa.Table | None = None,
    inst: Institution | None = None,
    period: str = "2026-10",
    comp: pa.Table | None = None,
    reference: ReferenceData | None = None,
) -> Phase4Result:
    """evaluate() with the defaults above: government guarantor, period 2026-10."""
    return evaluate(
        table,
        fin if fin is not None else financials(),
        comp,
        inst or institution(),
        Period.parse(period),
        reference,
    )


def rule_ids(result: Phase4Result) -> set[str]:
    return set(result.findings.to_table()["rule_id"].to_pylist())


def found(result: Phase4Result, rule_id: str) -> list[dict[str, Any]]:
    """The findings of one rule as dicts, in row order."""
    table = result.findings.to_table()
    return [f for f in table.to_pylist() if f["rule_id"] == rule_id]


def rows_of(result: Phase4Result, rule_id: str) -> list[int]:
    return sorted(f["row"] for f in found(result, rule_id))
