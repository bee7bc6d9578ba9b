"""Rules 1.2-draft on template 1.1 (docs/spec/rules-1.2-draft.md): each limit at its boundary, exactly;
a 1.0 filing never gets one of these findings; the statistical sections fill every value for 1.1 and
say why a value is null for 1.0."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest

from schemas.v1_1 import COMPENSATIONS, FINANCIALS, GUARANTEES
from tests.prudential.helpers import FINANCIAL_DEFAULTS, GUARANTEE_DEFAULTS, exact, found, institution, run
from validations.context import Period
from validations.prudential import evaluate

EXTRA_G: dict[str, Any] = {
    "bank_risk_share": 0.0, "bank_margin_amount": 0.0, "reguarantee_ref": None, "reguarantee_share": None,
    "internet_channel": False, "collateral_reg_no": None, "collateral_reg_date": None, "five_category_date": None,
    "overdue_amount": 0.0,
}  # fmt: skip
EXTRA_F: dict[str, Any] = {
    "fee_income_period": 100_000.0, "compensation_paid_ytd": 0.0, "recovered_ytd": 0.0, "net_profit_period": -5.0,
    "net_profit_ytd": 10.0, "margin_received": 1.0, "margin_placed": 2.0, "capital_injection_ytd": 0.0,
    "written_off_ytd": 0.0,
}  # fmt: skip
RATED = {"rating_agency": "中诚信国际信用评级有限责任公司", "rating_grade": "AA-", "rating_date": "2026-06-30"}


def g11(*rows: dict[str, Any]) -> pa.Table:
    records = []
    for number, row in enumerate(rows, start=1):
        record = {**GUARANTEE_DEFAULTS, **EXTRA_G, "guarantee_id": f"G{number:04d}", "party_id": f"P{number:017d}"}
        record.update(row)
        records.append(exact(record, GUARANTEES))
    return pa.Table.from_pylist(records, schema=GUARANTEES.arrow_schema)


def f11(**changes: Any) -> pa.Table:
    record = {"period_end": dt.date(2026, 10, 31), **FINANCIAL_DEFAULTS, **EXTRA_F, **changes}
    return pa.Table.from_pylist([exact(record, FINANCIALS)], schema=FINANCIALS.arrow_schema)


def c11(*rows: dict[str, Any]) -> pa.Table:
    base = {"compensation_id": "C1", "guarantee_id": "G0002", "compensation_date": dt.date(2026, 10, 31),
            "amount_paid": 1000.0, "recovered_to_date": 0.0, "bank_claim_date": dt.date(2026, 10, 1),
            "written_off_to_date": 0.0}
    return pa.Table.from_pylist([exact({**base, **r}, COMPENSATIONS) for r in rows], schema=COMPENSATIONS.arrow_schema)


def run11(table, comp=None, inst=None, previous=None, fin=None):
    return evaluate(table, fin if fin is not None else f11(), comp, inst or institution(**RATED),
                    Period.parse("2026-10"), None, previous)


def ids(result, rule_id):
    return [(f["file"], f["row"]) for f in found(result, rule_id)]


COMPENSATED = {"status": "compensated", "outstanding_balance": 0.0, "closed_date": dt.date(2026, 10, 31),
               "five_category": "5", "five_category_date": dt.date(2026, 9, 30)}


@pytest.mark.parametrize(("claimed", "late"), [(dt.date(2026, 10, 1), False), (dt.date(2026, 9, 30), True)])
def test_bnk001_thirty_days_is_in_time(claimed, late):
    result = run11(g11({}, COMPENSATED), c11({"bank_claim_date": claimed}))  # paid 10-31: 30 or 31 days on
    assert ids(result, "BNK-001") == ([("compensations", 1)] if late else [])


@pytest.mark.parametrize(("margin", "over"), [(Decimal("100000.00"), False), (Decimal("100000.01"), True)])
def test_bnk003_ten_percent_margin_for_reguaranteed_business(margin, over):
    row = {"reguarantee_ref": "ZDB-1", "reguarantee_share": 0.2, "liability_share": 0.4, "bank_risk_share": 0.2,
           "bank_margin_amount": margin}
    assert ids(run11(g11(row)), "BNK-003") == ([("guarantees", 1)] if over else [])
    assert ids(run11(g11({**row, "reguarantee_ref": None, "reguarantee_share": None})), "BNK-003") == []


@pytest.mark.parametrize(("rating", "finding"), [
    (RATED, False),
    ({**RATED, "rating_grade": "A+"}, True),
    ({**RATED, "rating_date": "2025-10-31"}, False),  # 365 days before the period end
    ({**RATED, "rating_date": "2025-10-30"}, True),  # 366
    ({"rating_agency": None, "rating_grade": None, "rating_date": None}, True),
])  # fmt: skip
def test_bnk002_rating_banks_require(rating, finding):
    result = run11(g11({}), inst=institution(**rating))
    assert len(found(result, "BNK-002")) == (1 if finding else 0)
    nothing_lent = g11({"business_type": "non_financing", "lender_code": None, "loan_interest_rate": None})
    assert found(run11(nothing_lent, inst=institution(**rating)), "BNK-002") == []


@pytest.mark.parametrize(("category", "moved", "finding"), [
    ("3", dt.date(2026, 10, 1), True), ("5", dt.date(2026, 10, 31), True), ("3", dt.date(2026, 9, 30), False),
    ("2", dt.date(2026, 10, 15), False),
])  # fmt: skip
def test_ews001_migration_to_non_performing_in_the_period(category, moved, finding):
    rows = g11({}, {"five_category": category, "five_category_date": moved, "outstanding_balance": 1.0})
    assert ids(run11(rows), "EWS-001") == ([("guarantees", 2)] if finding else [])


@pytest.mark.parametrize(("now", "finding"), [(Decimal("120.00"), False), (Decimal("120.01"), True)])
def test_ews002_overdue_growth_over_twenty_percent(now, finding):
    previous = g11({"overdue_amount": Decimal("100.00")})
    assert len(found(run11(g11({"overdue_amount": now}), previous=previous), "EWS-002")) == (1 if finding else 0)
    assert found(run11(g11({"overdue_amount": now})), "EWS-002") == []  # no baseline, no growth
    assert len(found(run11(g11({"overdue_amount": Decimal("0.01")}), previous=g11({})), "EWS-002")) == 1


@pytest.mark.parametrize(("bad", "finding"), [(Decimal("50000.00"), False), (Decimal("50000.01"), True)])
def test_ews003_non_performing_share_over_five_percent(bad, finding):
    rows = g11({"outstanding_balance": Decimal("1000000.00") - bad},
               {"outstanding_balance": bad, "five_category": "3", "five_category_date": dt.date(2026, 8, 1)})
    # exposure 1,000,000.00 in all; non-performing exactly 5% is within the line
    assert len(found(run11(rows), "EWS-003")) == (1 if finding else 0)


def test_a_1_0_filing_gets_none_of_the_new_rules():
    from tests.prudential.helpers import compensations, guarantees

    table = guarantees({"five_category": "3"}, {"status": "compensated", "outstanding_balance": 0.0,
                                                "closed_date": dt.date(2026, 10, 31), "five_category": "5"})
    comp = compensations({"compensation_id": "C1", "guarantee_id": "G0002", "compensation_date": dt.date(2026, 10, 31),
                          "amount_paid": 1000.0, "recovered_to_date": 0.0})
    result = run(table, comp=comp, inst=institution())
    assert not {f["rule_id"][:3] for f in result.findings.to_table().to_pylist()} & {"EWS", "BNK"}
    stats = result.statistics
    assert stats["balance_sheet"]["margin_placed"] is None
    assert "template 1.0" in stats["balance_sheet"]["null_reasons"]["margin_placed"]
    assert stats["bank_cooperation"]["by_lender"][0]["bank_risk_share"] is None
    assert stats["guarantee_flows"]["null_reasons"]["opening_balance"].startswith("no earlier")


def test_the_1_1_sections_are_filled():
    rows = g11({"bank_risk_share": 0.2, "liability_share": 0.4, "bank_margin_amount": 5000.0,
                "internet_channel": True},
               {**COMPENSATED, "counter_guarantee": "rural_property", "collateral_reg_no": "DJ1",
                "collateral_reg_date": dt.date(2026, 1, 5)})
    result = run11(rows, c11({}), previous=g11({}))
    stats = result.statistics
    assert stats["balance_sheet"]["null_reasons"] == {} and stats["income_statement"]["null_reasons"] == {}
    assert stats["income_statement"]["net_profit_period"] == -5.0
    bank = stats["bank_cooperation"]["by_lender"][0]
    assert bank["bank_risk_share"] == pytest.approx(0.2) and bank["payout_delay_days_max"] == 30
    assert bank["compensation_paid"] == 1000.0
    loan = next(line for line in stats["guarantee_flows"]["by_business_type"] if line["business_type"] == "loan")
    assert loan["opening_count"] == 1 and loan["compensated_count"] == 1 and loan["compensation_paid"] == 1000.0
    assert stats["plan_statistics"]["internet_channel_count"] == 1
    assert stats["plan_statistics"]["null_reasons"] == {}
    classes = {line["weight_class"]: line for line in stats["liability_breakdown"]["by_weight_class"]}
    assert classes["other_financing"]["exposure"] == 400000.0
