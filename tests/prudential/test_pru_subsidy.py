"""Fee subsidy (rules.md section 4) and SUB-001: eligibility at the fee limits, days, half-up fen."""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from validations.prudential.subsidy import half_up_fen

from .helpers import day, found, guarantees, run

FARMER = {"party_category": "farmer", "party_id_type": "RIC", "industry_code": None}


def test_days_and_amounts_by_hand():
    # period 2026-10: days d with start_date ≤ d < end, end = closed_date (ended) or maturity_date
    result = run(guarantees(
        # 1 starts mid-period: 10-10..10-31 = 22 days; 1,000,000 × 0.5% × 22/365 = 301.369… → 301.37
        {"party_category": "small", "subsidy_program": "sme_fee", "fee_rate": 0.02,
         "start_date": day("2026-10-10"), "maturity_date": day("2027-10-10")},
        # 2 released 10-12: 10-01..10-11 = 11 days; 500,000 × 1% × 11/365 = 150.684… → 150.68
        {**FARMER, "subsidy_program": "land_income", "fee_rate": 0.01, "guaranteed_amount": 500_000.0,
         "outstanding_balance": 0.0, "status": "released", "start_date": day("2025-10-12"),
         "closed_date": day("2026-10-12")},
        # 3 active, matures 10-20: 10-01..10-19 = 19 days; 365,000 × 1% × 19/365 = 190.00
        {"party_category": "micro", "subsidy_program": "rural_startup", "fee_rate": 0.01,
         "guaranteed_amount": 365_000.0, "outstanding_balance": 365_000.0, "start_date": day("2025-10-20"),
         "maturity_date": day("2026-10-20")},
        # 4 starts 10-05 and is released 10-25: 10-05..10-24 = 20 days; 730,000 × 0.5% × 20/365 = 200.00
        {"party_category": "medium", "subsidy_program": "sme_fee", "guaranteed_amount": 730_000.0,
         "outstanding_balance": 0.0, "status": "released", "start_date": day("2026-10-05"),
         "closed_date": day("2026-10-25")},
        # 5 half-up: starts 10-31, 1 day; 9,491,095 × 0.5% × 1/365 = 130.015 exactly → 130.02
        #   (in floats, round(9491095 * 0.005 / 365, 2) gives 130.01)
        {"party_category": "small", "subsidy_program": "sme_fee", "guaranteed_amount": 9_491_095.0,
         "outstanding_balance": 9_491_095.0, "start_date": day("2026-10-31"),
         "maturity_date": day("2027-10-31")},
        # 6 released on the period's first day: no day d with d < 10-01 in the period → 0 days, 0.00
        {**FARMER, "subsidy_program": "land_income", "fee_rate": 0.008, "outstanding_balance": 0.0,
         "status": "released", "start_date": day("2026-09-01"), "closed_date": day("2026-10-01")},
        # 7 compensated 10-08: 10-01..10-07 = 7 days; 1,000,000 × 1% × 7/365 = 191.780… → 191.78
        {**FARMER, "subsidy_program": "land_income", "fee_rate": 0.005, "outstanding_balance": 0.0,
         "status": "compensated", "start_date": day("2025-01-01"), "closed_date": day("2026-10-08")},
        # 8 claims nothing
        {"party_category": "small"},
    ))  # fmt: skip
    assert [(r["row"], r["program"], r["days"], r["amount"]) for r in result.subsidies.to_pylist()] == [
        (1, "sme_fee", 22, Decimal("301.37")),
        (2, "land_income", 11, Decimal("150.68")),
        (3, "rural_startup", 19, Decimal("190.00")),
        (4, "sme_fee", 20, Decimal("200.00")),
        (5, "sme_fee", 1, Decimal("130.02")),
        (6, "land_income", 0, Decimal("0.00")),
        (7, "land_income", 7, Decimal("191.78")),
    ]
    assert result.subsidies["guarantee_id"].to_pylist()[0] == "G0001"
    # sme_fee 301.37 + 200.00 + 130.02 = 631.39; land_income 150.68 + 0 + 191.78 = 342.46; rural 190.00
    assert result.indicators["subsidy_by_program"] == {
        "sme_fee": 631.39,
        "land_income": 342.46,
        "rural_startup": 190.0,
    }
    assert list(result.indicators["subsidy_by_program"]) == ["sme_fee", "land_income", "rural_startup"]
    assert result.indicators["subsidy_amount"] == 1163.85
    assert "SUB-001" not in {f["rule_id"] for f in result.findings.to_table().to_pylist()}


def test_half_up_in_integers():
    # 18,250 fen × 1/100 × 1 day / 365 = 0.5 fen → 1 fen; 18,249 fen → 0.49997 → 0 fen
    assert half_up_fen(np.array([18_250, 18_249]), (1, 100), np.array([1, 1]), 365).tolist() == [1, 0]
    # 949,109,500 fen × 1/200 × 1 / 365 = 13,001.5 fen → 13,002 (130.02 yuan)
    assert half_up_fen(np.array([949_109_500]), (1, 200), np.array([1]), 365).tolist() == [13_002]


def test_eligibility_at_the_fee_limits_and_sub_001():
    result = run(guarantees(
        {"party_category": "small", "subsidy_program": "sme_fee", "fee_rate": 0.02},  # 1 eligible (≤ 2%)
        {"party_category": "small", "subsidy_program": "sme_fee", "fee_rate": 0.0201},  # 2 above 2%
        # 3 not micro, small or medium; 4 not a loan; 5 outside the subsidy district
        {"party_category": "individual_business", "subsidy_program": "sme_fee"},
        {"party_category": "small", "subsidy_program": "sme_fee", "business_type": "housing_loan"},
        {"party_category": "small", "subsidy_program": "sme_fee", "district_code": "500112"},
        {"party_category": "micro", "subsidy_program": "rural_startup", "fee_rate": 0.01},  # 6 eligible (1%)
        {"party_category": "micro", "subsidy_program": "rural_startup", "fee_rate": 0.0101},  # 7 above 1%
        {"party_category": "small", "subsidy_program": "rural_startup", "fee_rate": 0.01},  # 8 not micro
        {**FARMER, "subsidy_program": "land_income", "fee_rate": 0.01},  # 9 eligible (≤ 1%)
        {**FARMER, "subsidy_program": "land_income", "fee_rate": 0.0101},  # 10 above 1%
        {"party_category": "micro", "subsidy_program": "land_income", "fee_rate": 0.01},  # 11 not a farmer
        {"party_category": "micro", "subsidy_program": "none", "fee_rate": 0.05},  # 12 claims nothing
    ))  # fmt: skip
    assert result.subsidies["row"].to_pylist() == [1, 6, 9]
    subs = found(result, "SUB-001")
    assert [(f["row"], f["column"], f["value"]) for f in subs] == [
        (2, "subsidy_program", "sme_fee"),
        (3, "subsidy_program", "sme_fee"),
        (4, "subsidy_program", "sme_fee"),
        (5, "subsidy_program", "sme_fee"),
        (7, "subsidy_program", "rural_startup"),
        (8, "subsidy_program", "rural_startup"),
        (10, "subsidy_program", "land_income"),
        (11, "subsidy_program", "land_income"),
    ]
    assert all(f["severity"] == "warning" and f["file"] == "guarantees" for f in subs)
    assert "2%" in subs[0]["message_zh"] and "500113" in subs[0]["message_en"]


def test_no_claims_no_subsidy():
    result = run(guarantees({}))
    assert result.subsidies.num_rows == 0
    assert result.indicators["subsidy_amount"] == 0.0 and result.indicators["subsidy_by_program"] == {}
