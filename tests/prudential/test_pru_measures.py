"""Measured financing liability (《融资担保责任余额计量办法》 weights) and PRU-001 leverage at the limits."""

from __future__ import annotations

import pytest

from .helpers import FOCUS_ID, day, financials, guarantees, institution, rule_ids, run


def measured(*rows: dict) -> float:
    return run(guarantees(*rows)).indicators["measured_financing_liability"]


# ---------------------------------------------------------------- weights


@pytest.mark.parametrize("category", ["micro", "small", "individual_business"])
def test_small_micro_household_at_5_million_gets_75_percent(category):
    # household balance 5,000,000.00 ≤ 5,000,000 → 75%: 3,750,000.00
    assert measured({"party_category": category, "outstanding_balance": 5_000_000.0}) == 3_750_000.0


def test_small_micro_household_one_fen_above_gets_100_percent():
    # 5,000,000.01 > 5,000,000 → 100%
    assert measured({"party_category": "small", "outstanding_balance": 5_000_000.01}) == 5_000_000.01


def test_household_balance_sums_a_partys_loans():
    # one party, 3,000,000 + 2,000,000 = 5,000,000.00 → both rows 75%: 3,750,000
    same = {"party_category": "micro", "party_id": "P-SAME"}
    assert measured(
        {**same, "outstanding_balance": 3_000_000.0}, {**same, "outstanding_balance": 2_000_000.0}
    ) == (3_750_000.0)
    # 3,000,000 + 2,000,000.01 → household 5,000,000.01 → both rows 100%
    assert measured(
        {**same, "outstanding_balance": 3_000_000.0}, {**same, "outstanding_balance": 2_000_000.01}
    ) == (5_000_000.01)


def test_household_balance_counts_only_loan_rows():
    # a 1,000,000 other_financing row of the same party does not enter its household balance
    same = {"party_category": "micro", "party_id": "P-SAME"}
    # 5,000,000 loan → 75% = 3,750,000; other_financing 1,000,000 at 100% → 4,750,000
    assert (
        measured(
            {**same, "outstanding_balance": 5_000_000.0},
            {**same, "business_type": "other_financing", "outstanding_balance": 1_000_000.0},
        )
        == 4_750_000.0
    )


def test_farmer_household_at_2_million_gets_75_percent_and_one_fen_above_100():
    farmer = {"party_category": "farmer", "party_id_type": "RIC", "industry_code": None}
    assert measured({**farmer, "outstanding_balance": 2_000_000.0}) == 1_500_000.0  # 2,000,000 × 75%
    assert measured({**farmer, "outstanding_balance": 2_000_000.01}) == 2_000_000.01  # 100%


def test_medium_large_and_agri_alone_get_100_percent():
    # medium and large are not small-micro; agri does not change the weight
    assert measured({"party_category": "medium", "outstanding_balance": 1_000_000.0}) == 1_000_000.0
    assert (
        measured({"party_category": "large", "agri": True, "outstanding_balance": 1_000_000.0}) == 1_000_000.0
    )


def test_housing_loan_30_percent():
    assert measured({"business_type": "housing_loan", "outstanding_balance": 1_000_000.0}) == 300_000.0


@pytest.mark.parametrize(("rating", "weighted"), [("AAA", 800_000.0), ("AA+", 800_000.0), ("AA", 800_000.0),
                                                   ("AA-", 1_000_000.0), ("A+", 1_000_000.0),
                                                   ("unrated", 1_000_000.0)])  # fmt: skip
def test_bond_aa_or_better_80_percent_else_100(rating, weighted):
    row = {
        "business_type": "bond",
        "bond_issuer_rating": rating,
        "lender_code": None,
        "loan_interest_rate": None,
    }
    assert measured({**row, "outstanding_balance": 1_000_000.0}) == weighted


def test_shared_risk_row_with_liability_share_0_4():
    # 4:2:2:2 split: exposure = 1,000,000 × 0.4 = 400,000; small-micro loan → 75% = 300,000
    result = run(
        guarantees({"party_category": "small", "outstanding_balance": 1_000_000.0, "liability_share": 0.4})
    )
    assert result.indicators["financing_exposure"] == 400_000.0
    assert result.indicators["measured_financing_liability"] == 300_000.0
    # the household balance is the exposure: 12,500,000 × 0.4 = 5,000,000.00 → still 75% (3,750,000)
    assert measured(
        {"party_category": "small", "outstanding_balance": 12_500_000.0, "liability_share": 0.4}
    ) == (3_750_000.0)
    # 12,500,000.03 × 0.4 = 5,000,000.012 → 5,000,000.01 at fen precision → 100%
    assert measured(
        {"party_category": "small", "outstanding_balance": 12_500_000.03, "liability_share": 0.4}
    ) == (5_000_000.01)


def test_only_active_financing_rows_count():
    result = run(
        guarantees(
            {"outstanding_balance": 1_000_000.0},  # counted, large → 100%
            {"business_type": "non_financing", "outstanding_balance": 700_000.0},
            {"status": "released", "outstanding_balance": 0.0, "closed_date": day("2026-10-05")},
        )
    )
    assert result.indicators["financing_exposure"] == 1_000_000.0
    assert result.indicators["measured_financing_liability"] == 1_000_000.0
    assert result.indicators["non_financing_exposure"] == 700_000.0


# ---------------------------------------------------------------- PRU-001 leverage


def _book(total_rows: int, last: float) -> list[dict]:
    """``total_rows`` other_financing rows of 5,000,000 to distinct parties (weight 100%), the last one
    ``last``; parties stay below PRU-002's 10% of net assets 100,000,000."""
    rows = [
        {"business_type": "other_financing", "outstanding_balance": 5_000_000.0}
        for _ in range(total_rows - 1)
    ]
    return [*rows, {"business_type": "other_financing", "outstanding_balance": last}]


# net assets 100,000,000 less 90,000,000 equity in other guarantors = 10,000,000 for leverage
LEVER = {"net_assets": 100_000_000.0, "equity_in_other_guarantors": 90_000_000.0}


def test_pru_001_exactly_10_times_passes():
    # 20 × 5,000,000 = 100,000,000 = 10 × 10,000,000 → not above
    result = run(guarantees(*_book(20, 5_000_000.0)), financials(**LEVER))
    assert "PRU-001" not in rule_ids(result)
    assert result.indicators["leverage_ratio"] == 10.0
    assert result.indicators["leverage_cap"] == 10
    assert result.indicators["net_assets_for_leverage"] == 10_000_000.0


def test_pru_001_one_fen_above_10_times():
    # 100,000,000.01 / 10,000,000 = 10.000000001 > 10
    result = run(guarantees(*_book(20, 5_000_000.01)), financials(**LEVER))
    (finding,) = [f for f in result.findings.to_table().to_pylist() if f["rule_id"] == "PRU-001"]
    assert finding["severity"] == "error" and finding["file"] is None and finding["row"] is None
    assert finding["value"] == "10.000000001"
    assert "10×" in finding["message_en"] and "100,000,000.01" in finding["message_en"]


def test_pru_001_focus_guarantor_cap_15():
    focus = institution(FOCUS_ID)
    at_cap = run(guarantees(*_book(30, 5_000_000.0)), financials(**LEVER), focus)  # 150,000,000 = 15×
    assert "PRU-001" not in rule_ids(at_cap)
    assert at_cap.indicators["leverage_cap"] == 15 and at_cap.indicators["leverage_ratio"] == 15.0
    above = run(guarantees(*_book(30, 5_000_000.01)), financials(**LEVER), focus)  # 15.000000001×
    assert "PRU-001" in rule_ids(above)
    # the same book at 15× is a breach for a guarantor without the focus mark
    assert "PRU-001" in rule_ids(run(guarantees(*_book(30, 5_000_000.0)), financials(**LEVER)))


def test_pru_001_uses_the_weighted_liability():
    # 40 small-micro loans of 5,000,000 at 75% = 150,000,000 measured on 200,000,000 of exposure:
    # 15× of 10,000,000 → above 10×; with net assets for leverage 15,000,000 exactly 10× → passes
    rows = [{"party_category": "micro", "outstanding_balance": 5_000_000.0} for _ in range(40)]
    assert "PRU-001" in rule_ids(run(guarantees(*rows), financials(**LEVER)))
    at_cap = run(
        guarantees(*rows), financials(net_assets=100_000_000.0, equity_in_other_guarantors=85_000_000.0)
    )
    assert "PRU-001" not in rule_ids(at_cap)
    assert at_cap.indicators["measured_financing_liability"] == 150_000_000.0


def test_pru_001_with_no_net_assets_for_leverage():
    # equity in other guarantors ≥ net assets: any liability is a breach, the ratio is null
    result = run(
        guarantees({}), financials(net_assets=100_000_000.0, equity_in_other_guarantors=100_000_000.0)
    )
    assert "PRU-001" in rule_ids(result)
    assert result.indicators["leverage_ratio"] is None
