"""Template 1.1-draft's additions to a synthetic filing: the 1.0 tables are drawn exactly as before, then
the 1.1 columns are added from a random stream of their own, so a 1.0 package stays byte for byte what
it was and a 1.1 package holds the same 1.0 columns (bar the few codes 1.1 refines, below).

Valid by default under every rule of 1.2-draft too: shares never exceed the whole (BIZ-013), dates in
order (BIZ-014), nothing written off beyond what was paid (BIZ-015), no migration to non-performing
dated in the period (EWS-001), no overdue amount (EWS-002), a non-performing share held under 4%
(EWS-003: active rows classed 3–5 are reclassed 2, largest first, until it is), payouts 0–20 days
after the bank's claim (BNK-001), a rating of AA- or better from within the year (BNK-002), margins of
re-guaranteed business at 5% (BNK-003).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from connectors.synthetic import text as tx
from connectors.synthetic.guarantees import day_number
from schemas import get_template
from validations.context import Period

RATING_AGENCIES = ("中诚信国际信用评级有限责任公司", "联合资信评估股份有限公司", "东方金诚国际信用评估有限公司")
GOOD_RATINGS = ("AAA", "AA+", "AA", "AA-")


def _ordered(columns: dict[str, pa.Array], file: str) -> pa.Table:
    names = get_template("1.1").file(file).column_names
    return pa.table([columns[name] for name in names], names=names)


def extend_guarantees(guarantees: pa.Table, period: str, seed: int) -> pa.Table:
    rng = np.random.default_rng([seed, 0x11A])
    n = guarantees.num_rows
    p = Period.parse(period)
    columns = {name: guarantees[name].combine_chunks() for name in guarantees.column_names}
    business = guarantees["business_type"].to_numpy(zero_copy_only=False).astype(str)
    status = guarantees["status"].to_numpy(zero_copy_only=False).astype(str)
    category = guarantees["party_category"].to_numpy(zero_copy_only=False).astype(str)
    counter = guarantees["counter_guarantee"].to_numpy(zero_copy_only=False).astype(object)
    five = guarantees["five_category"].to_numpy(zero_copy_only=False).astype(object)
    share = tx.to_numpy_float(guarantees["liability_share"])
    guaranteed = tx.to_numpy_cents(guarantees["guaranteed_amount"])
    balance = tx.to_numpy_cents(guarantees["outstanding_balance"])
    start = tx.to_numpy_days(guarantees["start_date"])
    lending = np.isin(business, ("loan", "housing_loan"))
    financing = business != "non_financing"
    active = status == "active"

    # 二(二): half the farmers' mortgages are on rural property rights
    rural = (category == "farmer") & (counter == "mortgage") & (rng.random(n) < 0.5)
    counter[rural] = "rural_property"
    columns["counter_guarantee"] = pa.array(counter.tolist(), pa.string())
    # EWS-003 held: active non-performing exposure under 4% of the financing exposure (largest first)
    exposure = balance * share
    counted = active & financing
    npl = counted & np.isin(five, ("3", "4", "5"))
    base = exposure[counted].sum()
    for row in np.flatnonzero(npl)[np.argsort(-exposure[npl])]:
        if exposure[npl].sum() <= 0.04 * base:
            break
        five[row], npl[row] = "2", False
    columns["five_category"] = pa.array(five.tolist(), pa.string())

    # 一, 五(十): the 4:2:2:2 split where the guarantor bears 40% or less; margins on 30% of loans
    shared = lending & (share <= 0.4 + 1e-9)
    reguaranteed = financing & (share <= 0.4 + 1e-9)
    bank_share = np.where(shared, "0.2", np.where(lending, "0", ""))
    margin = np.where(lending & (rng.random(n) < 0.3), np.floor(guaranteed * 0.05), 0).astype(np.int64)
    ids = columns["guarantee_id"]
    columns["bank_risk_share"] = pa.array(bank_share.tolist(), pa.string())
    columns["bank_margin_amount"] = tx.where(lending, tx.cents(margin))
    columns["reguarantee_ref"] = tx.where(reguaranteed, tx.join("ZDB-", ids))
    columns["reguarantee_share"] = tx.where(reguaranteed, pa.array(["0.2"] * n, pa.string()))
    columns["internet_channel"] = tx.choice(("false", "true"), (rng.random(n) < 0.1).astype(np.int64))
    registered = np.isin(counter, ("pledge", "mortgage", "rural_property"))
    columns["collateral_reg_no"] = tx.where(registered, tx.join("DJ", ids))
    columns["collateral_reg_date"] = tx.where(registered, tx.dates(start))
    # 五(十二): a class other than 1 dated before the period (a migration in it would be EWS-001)
    columns["five_category_date"] = tx.where(five != "1", tx.dates(np.full(n, day_number(p.start) - 1)))
    columns["overdue_amount"] = tx.cents(np.zeros(n, dtype=np.int64))
    return _ordered(columns, "guarantees")


def extend_financials(financials: pa.Table, guarantees: pa.Table, compensations: pa.Table | None,
                      period: str, seed: int) -> pa.Table:
    rng = np.random.default_rng([seed, 0x11F])
    p = Period.parse(period)
    fee_ytd = int(tx.to_numpy_cents(financials["fee_income_ytd"])[0])
    net_assets = int(tx.to_numpy_cents(financials["net_assets"])[0])
    paid = int(tx.to_numpy_cents(compensations["amount_paid"]).sum()) if compensations is not None else 0
    recovered = int(tx.to_numpy_cents(compensations["recovered_to_date"]).sum()) if compensations is not None else 0
    active = pc.equal(guarantees["status"], "active")
    margin = guarantees["bank_margin_amount"].filter(active)
    placed = int(tx.to_numpy_cents(pc.if_else(pc.equal(margin, ""), "0", margin)).sum())
    profit_period = int(fee_ytd / p.month * rng.uniform(0.1, 0.4))
    values = {
        "fee_income_period": fee_ytd // p.month,
        "compensation_paid_ytd": paid + int(paid * rng.uniform(0, 3)),
        "recovered_ytd": recovered + int(recovered * rng.uniform(0, 2)),
        "net_profit_period": profit_period,
        "net_profit_ytd": profit_period * p.month,
        "margin_received": int(net_assets * rng.uniform(0.01, 0.05)),
        "margin_placed": placed,
        "capital_injection_ytd": 0,
        "written_off_ytd": 0,
    }
    columns = {name: financials[name].combine_chunks() for name in financials.column_names}
    columns.update({name: tx.cents(np.array([value])) for name, value in values.items()})
    return _ordered(columns, "financials")


def extend_compensations(compensations: pa.Table, seed: int) -> pa.Table:
    rng = np.random.default_rng([seed, 0x11C])
    n = compensations.num_rows
    date = tx.to_numpy_days(compensations["compensation_date"])
    columns = {name: compensations[name].combine_chunks() for name in compensations.column_names}
    columns["bank_claim_date"] = tx.dates(date - rng.integers(0, 21, n))
    columns["written_off_to_date"] = tx.cents(np.zeros(n, dtype=np.int64))
    return _ordered(columns, "compensations")


def extend_registry(registry: pa.Table, period: str, seed: int) -> pa.Table:
    """Third-party ratings of AA- or better, dated within the year; the first guarantor is systemic."""
    rng = np.random.default_rng([seed, 0x11E])
    n = registry.num_rows
    end = Period.parse(period).end
    dates = [(end - dt.timedelta(days=int(d))).isoformat() for d in rng.integers(30, 300, n)]
    return (registry.append_column("rating_agency", tx.choice(RATING_AGENCIES, rng.integers(0, 3, n)))
            .append_column("rating_grade", tx.choice(GOOD_RATINGS, rng.integers(0, 4, n)))
            .append_column("rating_date", pa.array(dates, pa.string()))
            .append_column("systemic", pa.array(np.arange(n) == 0, pa.bool_())))


def extend(tables: dict[str, pa.Table], period: str, seed: int) -> dict[str, pa.Table]:
    """A 1.0 filing's tables → the same filing in template 1.1."""
    guarantees = extend_guarantees(tables["guarantees"], period, seed)
    compensations = tables.get("compensations")
    if compensations is not None:
        compensations = extend_compensations(compensations, seed)
    return {"guarantees": guarantees,
            "financials": extend_financials(tables["financials"], guarantees, compensations, period, seed),
            "compensations": compensations}
