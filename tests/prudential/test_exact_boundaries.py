"""rules.md 1.1 "Amounts are exact": every PRU/POL/SUB limit (and NEG-003's) exactly at the limit and
one step beyond it, with numbers filed as text and read by the parser, as a filing's are.

The amounts are chosen so that Arrow's decimal→float64 cast, which is not correctly rounded, gets them
wrong: 466658955.90 → 466658955.90000004, 139887355.92, 233145593.20, 466291186.40, 19999999.99,
1858431889.10, 3716863778.20, 1866635823.60, 466658955.40, 4229137.81, 770862.19, 321951.35 and
1678048.65 all come out one step too high. With floats, III at exactly 30% was above 30%, I at exactly
20% below 20%, and so on. "One step" is one fen for amounts and 10⁻¹⁸ for rates (the finest decimal a
rate may be filed with); where a share splits a fen, less than one fen beyond is already beyond, since
limits are decided before anything is rounded.

Default financials (helpers.FINANCIAL_DEFAULTS): net assets 100,000,000, total assets 200,000,000, class
I 80,000,000, II 80,000,000, III 40,000,000, reserves and fee income 1,000,000, paid-in 300,000,000.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from .helpers import (
    FOCUS_ID,
    GOV_ID,
    day,
    filed_financials,
    filed_guarantees,
    found,
    institution,
    rule_ids,
    run,
)

ONE_ROW = {}  # a default row: an active large loan of 1,000,000.00 at 1.5%


def fired(result, rule_id: str) -> bool:
    return rule_id in rule_ids(result)


# ---------------------------------------------------------------- PRU-009/010/011 asset classes


def test_pru_011_class_iii_exactly_30_percent_of_1_555_529_853():
    # base 1,555,529,853.00 − 0 receivable; 30% = 466,658,955.90 exactly (the float cast gave
    # 466,658,955.90000004 > 30%: PRU-011 and grade C for a guarantor within the limit)
    # I 622,211,941.20 = 40%, II 466,658,955.90 = 30% (I + II = 1,088,870,897.10 = 70%, at its limit too)
    assets = {"total_assets": "1555529853.00", "class_i_assets": "622211941.20",
              "class_ii_assets": "466658955.90", "receivable_compensation": "0"}  # fmt: skip
    at = run(filed_guarantees(ONE_ROW), filed_financials(**assets, class_iii_assets="466658955.90"))
    assert not {"PRU-009", "PRU-010", "PRU-011"} & rule_ids(at)
    assert at.indicators["class_iii_ratio"] == 0.3 and at.indicators["class_i_ii_ratio"] == 0.7
    assert at.grade().grade != "C"
    # one fen above: 466,658,955.91 > 466,658,955.90
    above = run(filed_guarantees(ONE_ROW), filed_financials(**assets, class_iii_assets="466658955.91"))
    (finding,) = found(above, "PRU-011")
    # 466,658,955.91 / 1,555,529,853.00 = 0.30000000000643…: decided before rounding, shown rounded
    assert finding["value"] == "0.3"
    assert not {"PRU-009", "PRU-010"} & rule_ids(above)


# base 476,291,186.40 − 10,000,000.00 receivable = 466,291,186.40:
#   20% = 93,258,237.28, 50% = 233,145,593.20, 70% = 326,403,830.48, 30% = 139,887,355.92
CLASSES = {"total_assets": "476291186.40", "receivable_compensation": "10000000.00",
           "class_i_assets": "93258237.28", "class_ii_assets": "233145593.20",
           "class_iii_assets": "139887355.92"}  # fmt: skip


def test_pru_009_010_011_all_exactly_at_their_limits():
    # floats fired all three here: I and II read too high or the base too high, III too high
    result = run(filed_guarantees(ONE_ROW), filed_financials(**CLASSES))
    assert not {"PRU-009", "PRU-010", "PRU-011"} & rule_ids(result)
    assert result.indicators["class_i_ratio"] == 0.2
    assert result.indicators["class_i_ii_ratio"] == 0.7
    assert result.indicators["class_iii_ratio"] == 0.3


@pytest.mark.parametrize(
    ("rule_id", "changes"),
    [
        # I one fen below 20% (93,258,237.27), II one fen up so that I + II stays at 70%
        ("PRU-010", {"class_i_assets": "93258237.27", "class_ii_assets": "233145593.21"}),
        # II one fen down: I + II = 326,403,830.47 < 326,403,830.48
        ("PRU-009", {"class_ii_assets": "233145593.19"}),
        # III one fen up: 139,887,355.93 > 139,887,355.92
        ("PRU-011", {"class_iii_assets": "139887355.93"}),
    ],
)
def test_pru_009_010_011_one_fen_beyond(rule_id, changes):
    result = run(filed_guarantees(ONE_ROW), filed_financials(**{**CLASSES, **changes}))
    assert {"PRU-009", "PRU-010", "PRU-011"} & rule_ids(result) == {rule_id}


# ---------------------------------------------------------------- PRU-006/007/008 capital and reserves


def test_pru_006_paid_in_capital_at_20_million_and_one_fen_below():
    assert not fired(run(filed_guarantees(ONE_ROW), filed_financials(paid_in_capital="20000000.00")), "PRU-006")
    # 19,999,999.99 (the float cast: 19,999,999.990000002) < 20,000,000
    (finding,) = found(run(filed_guarantees(ONE_ROW), filed_financials(paid_in_capital="19999999.99")), "PRU-006")
    assert finding["value"] == "19999999.99"


def test_pru_007_unearned_premium_reserve_exactly_half_of_fee_income():
    # 50% × 3,716,863,778.20 = 1,858,431,889.10 exactly (both casts one step high)
    fees = {"fee_income_ytd": "3716863778.20"}
    assert not fired(run(filed_guarantees(ONE_ROW),
                         filed_financials(**fees, unearned_premium_reserve="1858431889.10")), "PRU-007")
    assert fired(run(filed_guarantees(ONE_ROW),
                     filed_financials(**fees, unearned_premium_reserve="1858431889.09")), "PRU-007")


def test_pru_008_compensation_reserve_exactly_1_percent_of_measured_liability():
    # a housing loan of 155,552,985,300.00 weighs 30%: measured 46,665,895,590.00; 1% = 466,658,955.90
    book = filed_guarantees({"business_type": "housing_loan", "outstanding_balance": "155552985300.00",
                             "guaranteed_amount": "155552985300.00", "loan_amount": "155552985300.00"})
    at = run(book, filed_financials(compensation_reserve="466658955.90"))
    assert not fired(at, "PRU-008")
    assert at.indicators["measured_financing_liability"] == 46_665_895_590.0
    (finding,) = found(run(book, filed_financials(compensation_reserve="466658955.89")), "PRU-008")
    assert finding["value"] == "0.01"  # 466,658,955.89 / 46,665,895,590 = 0.0099999999997857…, shown rounded


# ---------------------------------------------------------------- PRU-001 leverage


# net assets 1,555,529,853.00 − 1,088,870,897.10 equity in other guarantors = 466,658,955.90 for leverage
LEVER = {"net_assets": "1555529853.00", "equity_in_other_guarantors": "1088870897.10"}


def _housing(balance: str) -> dict:
    return {"business_type": "housing_loan", "outstanding_balance": balance, "guaranteed_amount": balance,
            "loan_amount": balance}


def test_pru_001_exactly_10_times_and_a_third_of_a_fen_above():
    # 10 × 466,658,955.90 = 4,666,589,559.00 = 30% of a housing loan of 15,555,298,530.00
    at = run(filed_guarantees(_housing("15555298530.00")), filed_financials(**LEVER))
    assert not fired(at, "PRU-001")
    assert at.indicators["leverage_ratio"] == 10.0
    assert at.indicators["net_assets_for_leverage"] == 466_658_955.9
    # one fen more of balance is 0.3 fen more of liability: 4,666,589,559.003 > 4,666,589,559.00, a breach
    # decided before rounding (the liability is still reported as 4,666,589,559.00)
    above = run(filed_guarantees(_housing("15555298530.01")), filed_financials(**LEVER))
    (finding,) = found(above, "PRU-001")
    assert finding["value"] == "10"  # 10.0000000000064…, shown to 10 decimals
    assert "4,666,589,559.00" in finding["message_en"]
    assert above.indicators["measured_financing_liability"] == 4_666_589_559.0


def test_pru_001_focus_guarantor_exactly_15_times():
    # 15 × 466,658,955.90 = 6,999,884,338.50 = 30% of 23,332,947,795.00
    focus = institution(FOCUS_ID)
    at = run(filed_guarantees(_housing("23332947795.00")), filed_financials(**LEVER), focus)
    assert not fired(at, "PRU-001") and at.indicators["leverage_ratio"] == 15.0
    assert fired(run(filed_guarantees(_housing("23332947795.01")), filed_financials(**LEVER), focus), "PRU-001")


# ---------------------------------------------------------------- PRU-002/003 concentration


def test_pru_002_exactly_10_percent_of_466_658_955_90():
    # 10% of 466,658,955.90 = 46,665,895.59
    fin = filed_financials(net_assets="466658955.90")
    at = run(filed_guarantees({"outstanding_balance": "46665895.59"}), fin)
    assert not fired(at, "PRU-002") and at.indicators["max_party_ratio"] == 0.1
    assert fired(run(filed_guarantees({"outstanding_balance": "46665895.60"}), fin), "PRU-002")


def test_pru_002_half_a_fen_above_under_a_shared_liability():
    # 93,331,791.18 × 0.5 = 46,665,895.59 (at); 93,331,791.19 × 0.5 = 46,665,895.595, half a fen above
    fin = filed_financials(net_assets="466658955.90")
    shared = {"liability_share": "0.5", "guaranteed_amount": "100000000.00", "loan_amount": "100000000.00"}
    assert not fired(run(filed_guarantees({**shared, "outstanding_balance": "93331791.18"}), fin), "PRU-002")
    assert fired(run(filed_guarantees({**shared, "outstanding_balance": "93331791.19"}), fin), "PRU-002")


def test_pru_003_a_party_naming_two_groups_counts_in_both_exactly_at_15_percent():
    # 15% of 466,658,955.40 = 69,998,843.31. P-A names G1 (30,000,000.00) and G2 (9,998,843.31): its whole
    # 39,998,843.31 counts in each. G1 = P-A + P-B 30,000,000.00 = 69,998,843.31; G2 = P-A + P-C.
    def book(p_c: str):
        return filed_guarantees(
            {"party_id": "P-A", "related_group_id": "G1", "outstanding_balance": "30000000.00"},
            {"party_id": "P-A", "related_group_id": "G2", "outstanding_balance": "9998843.31"},
            {"party_id": "P-B", "related_group_id": "G1", "outstanding_balance": "30000000.00"},
            {"party_id": "P-C", "related_group_id": "G2", "outstanding_balance": p_c},
        )

    fin = filed_financials(net_assets="466658955.40")
    at = run(book("30000000.00"), fin)  # G1 and G2 both 69,998,843.31: at the limit
    assert not fired(at, "PRU-003")
    assert at.indicators["max_group_ratio"] == 0.15 and at.indicators["max_group_id"] == "G1"  # tie: smallest
    above = run(book("30000000.01"), fin)  # G2 = 69,998,843.32
    (finding,) = found(above, "PRU-003")
    assert "G2" in finding["message_en"] and "G1" not in finding["message_en"]
    assert above.indicators["max_group_id"] == "G2"
    assert not fired(above, "PRU-002")  # P-A 39,998,843.31 is below 10% (46,665,895.54)


# ---------------------------------------------------------------- weights: household limits


def test_small_micro_household_exactly_5_million_and_a_share_of_a_fen_above():
    same = {"party_id": "P-SM", "party_category": "small"}
    # 4,229,137.81 + 770,862.19 = 5,000,000.00 (both casts one step high) → 75%: 3,750,000.00
    at = run(filed_guarantees({**same, "outstanding_balance": "4229137.81"},
                              {**same, "outstanding_balance": "770862.19"}))
    assert at.indicators["measured_financing_liability"] == 3_750_000.0
    above = run(filed_guarantees({**same, "outstanding_balance": "4229137.81"},
                                 {**same, "outstanding_balance": "770862.20"}))
    assert above.indicators["measured_financing_liability"] == 5_000_000.01  # 100%
    # 12,500,000.01 × 0.4 = 5,000,000.004: above the limit by less than a fen → 100%, reported to the fen
    shared = {"liability_share": "0.4", "guaranteed_amount": "13000000.00", "loan_amount": "13000000.00"}
    split = run(filed_guarantees({**same, **shared, "outstanding_balance": "12500000.01"}))
    assert split.indicators["measured_financing_liability"] == 5_000_000.0  # 5,000,000.004 × 100%


def test_farmer_household_exactly_2_million_and_half_a_fen_above():
    farmer = {"party_id": "P-FA", "party_category": "farmer", "party_id_type": "RIC", "industry_code": None}
    # 321,951.35 + 1,678,048.65 = 2,000,000.00 → 75%: 1,500,000.00
    at = run(filed_guarantees({**farmer, "outstanding_balance": "321951.35"},
                              {**farmer, "outstanding_balance": "1678048.65"}))
    assert at.indicators["measured_financing_liability"] == 1_500_000.0
    # 4,000,000.01 × 0.5 = 2,000,000.005 > 2,000,000 → 100%, reported half-up: 2,000,000.01
    shared = {"liability_share": "0.5", "guaranteed_amount": "4000000.01", "loan_amount": "4000000.01"}
    above = run(filed_guarantees({**farmer, **shared, "outstanding_balance": "4000000.01"}))
    assert above.indicators["measured_financing_liability"] == 2_000_000.01


# ---------------------------------------------------------------- POL-002/003


def test_pol_002_weighted_fee_rate_exactly_1_percent_then_above_by_a_fen_and_by_1e_18():
    # (466,658,955.90 × 0.9% + 466,658,955.90 × 1.1%) / 933,317,911.80 = 1% exactly
    def book(second_balance: str, second_fee: str):
        return filed_guarantees(
            {"party_category": "micro", "fee_rate": "0.009", "outstanding_balance": "466658955.90"},
            {"party_category": "small", "fee_rate": second_fee, "outstanding_balance": second_balance},
        )

    at = run(book("466658955.90", "0.011"))
    assert not fired(at, "POL-002") and at.indicators["small_micro_agri_weighted_fee_rate"] == 0.01
    # one fen more at 1.1%: the weighted rate is 1% + 0.0001 / 933,317,911.81 ≈ 1% + 1.07e-13 > 1%
    assert fired(run(book("466658955.91", "0.011")), "POL-002")
    # 1.1% + 1e-18 on half the exposure: 1% + 5e-19 > 1%
    assert fired(run(book("466658955.90", "0.011000000000000001")), "POL-002")


def test_pol_003_small_micro_agri_exactly_80_percent_for_a_focus_guarantor():
    # 1,866,635,823.60 / (1,866,635,823.60 + 466,658,955.90) = 1,866,635,823.60 / 2,333,294,779.50 = 80%
    focus = institution(FOCUS_ID)

    def book(large: str):
        return filed_guarantees({"party_category": "micro", "fee_rate": "0.01", "outstanding_balance": "1866635823.60"},
                                {"party_category": "large", "outstanding_balance": large})

    at = run(book("466658955.90"), inst=focus)
    assert not fired(at, "POL-003") and at.indicators["small_micro_agri_exposure_share"] == 0.8
    assert fired(run(book("466658955.91"), inst=focus), "POL-003")  # 79.99999999657…%


def test_pol_001_household_share_exactly_75_percent():
    # POL-001 counts households, not amounts: 3 of 4 is exactly 75% (not below); 2 of 3 is below
    at = [{"party_category": "micro"}] * 3 + [{"party_category": "large"}]
    assert not fired(run(filed_guarantees(*at), inst=institution(GOV_ID)), "POL-001")
    assert fired(run(filed_guarantees(*at[1:]), inst=institution(GOV_ID)), "POL-001")


# ---------------------------------------------------------------- SUB-001 fee-rate limits


@pytest.mark.parametrize(
    ("program", "row", "limit"),
    [
        ("sme_fee", {"party_category": "small"}, "0.02"),
        ("rural_startup", {"party_category": "micro"}, "0.01"),
        ("land_income", {"party_category": "farmer", "party_id_type": "RIC", "industry_code": None}, "0.01"),
    ],
)
def test_sub_001_fee_rate_exactly_at_the_limit_is_eligible_one_step_above_is_not(program, row, limit):
    claim = {**row, "subsidy_program": program, "outstanding_balance": "466658955.90",
             "guaranteed_amount": "466658955.90", "loan_amount": "466658955.90"}  # fmt: skip
    at = run(filed_guarantees({**claim, "fee_rate": limit}))
    assert not fired(at, "SUB-001")
    assert at.subsidies.num_rows == 1
    # 0.020000000000000001 and 0.010000000000000001 are the same float as 0.02 and 0.01
    above = run(filed_guarantees({**claim, "fee_rate": limit + "0000000000000001"}))  # 18 decimals
    assert [f["row"] for f in found(above, "SUB-001")] == [1]
    assert above.subsidies.num_rows == 0


def test_subsidy_on_an_amount_whose_float_is_off():
    # land_income, 46,665,895,590 fen × 1% × 31 / 365 = 39,634,048.309… fen → 396,340.48 yuan (half-up)
    farmer = {"party_category": "farmer", "party_id_type": "RIC", "industry_code": None,
              "subsidy_program": "land_income", "fee_rate": "0.01", "guaranteed_amount": "466658955.90",
              "loan_amount": "466658955.90", "outstanding_balance": "466658955.90"}  # fmt: skip
    result = run(filed_guarantees(farmer))
    assert result.subsidies["amount"].to_pylist() == [Decimal("396340.48")]
    assert result.indicators["subsidy_amount"] == 396_340.48


# ---------------------------------------------------------------- NEG-003 and PRU-005 rates


def test_neg_003_exactly_4_times_lpr_and_1e_18_above():
    result = run(filed_guarantees(
        {"start_date": day("2025-06-01"), "loan_interest_rate": "0.12"},  # 1: 4 × 3.00%, at the limit
        {"start_date": day("2025-06-01"), "loan_interest_rate": "0.120000000000000001"},  # 2: above
        {"start_date": day("2025-05-19"), "loan_interest_rate": "0.124"},  # 3: 4 × 3.10%, at the limit
        {"start_date": day("2025-05-19"), "loan_interest_rate": "0.124000000000000001"},  # 4: above
    ))  # fmt: skip
    assert sorted((f["row"], f["value"]) for f in found(result, "NEG-003")) == [
        (2, "0.120000000000000001"),
        (4, "0.124000000000000001"),
    ]


def test_pru_005_median_decided_to_1e_18():
    # unrelated loans at 1% and 2%: median 1.5%; 0.014999999999999999 is below it (and is the float 0.015)
    result = run(filed_guarantees(
        {"fee_rate": "0.01"}, {"fee_rate": "0.02"},
        {"guarantor_relation": "other_related", "fee_rate": "0.015"},  # 3: at the median
        {"guarantor_relation": "other_related", "fee_rate": "0.014999999999999999"},  # 4: below
    ))  # fmt: skip
    assert [f["row"] for f in found(result, "PRU-005")] == [4]
