"""PRU-002..011 at their boundaries: exactly at the limit passes, one fen (or one step) past it fires.

Default financials (helpers.financials): net_assets 100,000,000, total assets 200,000,000, no
receivable compensation, class I 80,000,000, II 80,000,000, III 40,000,000, reserves 1,000,000, fee
income 1,000,000, paid-in 300,000,000 — every PRU rule passes.
"""

from __future__ import annotations

import pytest

from .helpers import day, financials, found, guarantees, rows_of, rule_ids, run

# ---------------------------------------------------------------- PRU-002 one party


def test_pru_002_exactly_10_percent_of_net_assets_passes():
    # one party, 6,000,000 + 4,000,000 = 10,000,000 = 10% of 100,000,000 → not above
    same = {"party_id": "P-BIG"}
    result = run(
        guarantees({**same, "outstanding_balance": 6_000_000.0}, {**same, "outstanding_balance": 4_000_000.0})
    )
    assert "PRU-002" not in rule_ids(result)
    assert result.indicators["max_party_ratio"] == 0.1
    assert result.indicators["max_party_id"] == "P-BIG"


def test_pru_002_one_fen_above_10_percent():
    same = {"party_id": "P-BIG"}
    result = run(
        guarantees(
            {**same, "outstanding_balance": 6_000_000.0}, {**same, "outstanding_balance": 4_000_000.01}
        )
    )
    (finding,) = found(result, "PRU-002")
    assert finding["severity"] == "error" and finding["file"] is None and finding["row"] is None
    assert finding["value"] == "0.1000000001"  # 10,000,000.01 / 100,000,000
    assert "P-BIG" in finding["message_zh"] and "10%" in finding["message_en"]


def test_pru_002_is_unweighted_and_over_net_assets_not_net_assets_for_leverage():
    # a small-micro loan of 10,000,000.01 weighs 75% for leverage but counts in full here; equity in other
    # guarantors (50,000,000) is not deducted: the limit stays 10% of 100,000,000
    fin = financials(equity_in_other_guarantors=50_000_000.0)
    assert "PRU-002" not in rule_ids(
        run(guarantees({"party_category": "micro", "outstanding_balance": 10_000_000.0}), fin)
    )
    assert "PRU-002" in rule_ids(
        run(guarantees({"party_category": "micro", "outstanding_balance": 10_000_000.01}), fin)
    )


def test_pru_002_counts_the_share_the_guarantor_bears():
    # 25,000,000 × 0.4 = 10,000,000 → exactly 10%
    assert "PRU-002" not in rule_ids(
        run(guarantees({"outstanding_balance": 25_000_000.0, "liability_share": 0.4}))
    )


# ---------------------------------------------------------------- PRU-003 related group


def test_pru_003_group_exactly_15_percent_passes_and_one_fen_above_fires():
    # group G1: party A 8,000,000 + party B 7,000,000 = 15,000,000 = 15% of 100,000,000
    at = run(
        guarantees(
            {"party_id": "P-A", "related_group_id": "G1", "outstanding_balance": 8_000_000.0},
            {"party_id": "P-B", "related_group_id": "G1", "outstanding_balance": 7_000_000.0},
        )
    )
    assert "PRU-003" not in rule_ids(at)
    assert at.indicators["max_group_ratio"] == 0.15 and at.indicators["max_group_id"] == "G1"
    above = run(
        guarantees(
            {"party_id": "P-A", "related_group_id": "G1", "outstanding_balance": 8_000_000.0},
            {"party_id": "P-B", "related_group_id": "G1", "outstanding_balance": 7_000_000.01},
        )
    )
    (finding,) = found(above, "PRU-003")
    assert finding["value"] == "0.1500000001" and "G1" in finding["message_en"]
    assert "PRU-002" not in rule_ids(above)  # each party is below 10%


def test_pru_003_a_party_without_group_is_its_own_group():
    result = run(guarantees({"party_id": "P-ALONE", "outstanding_balance": 15_000_000.01}))
    assert result.indicators["max_group_id"] == "P-ALONE"
    (finding,) = found(result, "PRU-003")
    assert "P-ALONE" in finding["message_en"] and "no group" in finding["message_en"]
    assert "PRU-002" in rule_ids(result)  # 15% is also above the party limit


def test_pru_003_empty_group_id_is_no_group():
    result = run(
        guarantees(
            {"party_id": "P-A", "related_group_id": "", "outstanding_balance": 9_000_000.0},
            {"party_id": "P-B", "related_group_id": "", "outstanding_balance": 9_000_000.0},
        )
    )
    assert "PRU-003" not in rule_ids(result)  # two groups of 9% each, not one of 18%


def test_pru_003_a_group_named_on_any_row_of_the_party_counts_its_whole_exposure():
    # rules.md 1.1: P-A's released row names G1, so P-A belongs to G1 with its whole (active) exposure:
    # G1 = P-A 10,000,000.00 + P-B 5,000,000.01 = 15,000,000.01 > 15% of 100,000,000
    result = run(guarantees(
        {"party_id": "P-A", "outstanding_balance": 10_000_000.0},
        {"party_id": "P-A", "related_group_id": "G1", "status": "released", "outstanding_balance": 0.0,
         "closed_date": day("2026-10-02")},
        {"party_id": "P-B", "related_group_id": "G1", "outstanding_balance": 5_000_000.01},
    ))  # fmt: skip
    (finding,) = found(result, "PRU-003")
    assert "related group G1" in finding["message_en"] and finding["value"] == "0.1500000001"
    assert result.indicators["max_group_id"] == "G1"


def test_pru_003_groups_are_not_merged_through_a_party_naming_both():
    # P-A names G1 and G2 (500,000 counts in each); P-B in G1, P-C in G2 (8,000,000 each):
    # G1 = G2 = 8,500,000 (8.5%); merged they would be 16,500,000 (16.5%), above 15%
    result = run(guarantees(
        {"party_id": "P-A", "related_group_id": "G1", "outstanding_balance": 250_000.0},
        {"party_id": "P-A", "related_group_id": "G2", "outstanding_balance": 250_000.0},
        {"party_id": "P-B", "related_group_id": "G1", "outstanding_balance": 8_000_000.0},
        {"party_id": "P-C", "related_group_id": "G2", "outstanding_balance": 8_000_000.0},
    ))  # fmt: skip
    assert "PRU-003" not in rule_ids(result)
    assert result.indicators["max_group_ratio"] == 0.085 and result.indicators["max_group_id"] == "G1"


# ---------------------------------------------------------------- PRU-004/005 related parties


def test_pru_004_financing_to_controlling_shareholder_or_actual_controller():
    result = run(guarantees(
        {"guarantor_relation": "controlling_shareholder"},  # row 1: fires
        {"guarantor_relation": "actual_controller", "status": "released", "outstanding_balance": 0.0,
         "closed_date": day("2026-10-03")},  # row 2: fires whatever its status
        {"guarantor_relation": "actual_controller", "business_type": "non_financing"},  # row 3: not financing
        {"guarantor_relation": "other_related", "fee_rate": 0.03},  # row 4: not PRU-004
    ))  # fmt: skip
    assert [(f["row"], f["column"], f["value"]) for f in found(result, "PRU-004")] == [
        (1, "guarantor_relation", "controlling_shareholder"),
        (2, "guarantor_relation", "actual_controller"),
    ]


def test_pru_005_below_the_unrelated_median_fee():
    # unrelated loans at 1% and 2% → median (0.01 + 0.02) / 2 = 1.5%
    unrelated = [{"fee_rate": 0.01}, {"fee_rate": 0.02}]
    result = run(guarantees(
        *unrelated,
        {"guarantor_relation": "other_related", "fee_rate": 0.015},  # row 3: at the median
        {"guarantor_relation": "other_related", "fee_rate": 0.0149},  # row 4: below
        {"guarantor_relation": "other_related", "business_type": "bond", "fee_rate": 0.001,
         "bond_issuer_rating": "AA"},  # row 5: no unrelated bond → no median
    ))  # fmt: skip
    (finding,) = found(result, "PRU-005")
    assert (finding["row"], finding["column"], finding["value"], finding["severity"]) == (
        4,
        "fee_rate",
        "0.0149",
        "warning",
    )
    assert "0.015" in finding["message_en"]


def test_pru_005_median_of_an_odd_count_and_over_every_status():
    # unrelated loans 1%, 2% (released), 3% → median 2%; 1.99% is below, 2% is not
    result = run(guarantees({"fee_rate": 0.01},
                            {"fee_rate": 0.02, "status": "released", "outstanding_balance": 0.0,
                             "closed_date": day("2026-10-02")},
                            {"fee_rate": 0.03},
                            {"guarantor_relation": "other_related", "fee_rate": 0.02},
                            {"guarantor_relation": "other_related", "fee_rate": 0.0199}))  # fmt: skip
    assert rows_of(result, "PRU-005") == [5]


# ---------------------------------------------------------------- PRU-006..011 financials


@pytest.mark.parametrize(
    ("rule_id", "passes", "fails"),
    [
        # paid-in capital at least 20,000,000
        ("PRU-006", {"paid_in_capital": 20_000_000.0}, {"paid_in_capital": 19_999_999.99}),
        # unearned premium reserve at least 50% of fee income 2,000,000 → 1,000,000
        ("PRU-007", {"fee_income_ytd": 2_000_000.0, "unearned_premium_reserve": 1_000_000.0},
         {"fee_income_ytd": 2_000_000.0, "unearned_premium_reserve": 999_999.99}),
        # base 210,000,000 − 10,000,000 receivable = 200,000,000; I + II at least 70% = 140,000,000
        ("PRU-009", {"total_assets": 210_000_000.0, "receivable_compensation": 10_000_000.0,
                     "class_i_assets": 40_000_000.0, "class_ii_assets": 100_000_000.0},
         {"total_assets": 210_000_000.0, "receivable_compensation": 10_000_000.0,
          "class_i_assets": 40_000_000.0, "class_ii_assets": 99_999_999.99}),
        # I at least 20% = 40,000,000 (II raised so that I + II stays above 70%)
        ("PRU-010", {"class_i_assets": 40_000_000.0, "class_ii_assets": 110_000_000.0},
         {"class_i_assets": 39_999_999.99, "class_ii_assets": 110_000_000.0}),
        # III at most 30% = 60,000,000
        ("PRU-011", {"class_iii_assets": 60_000_000.0}, {"class_iii_assets": 60_000_000.01}),
    ],
)  # fmt: skip
def test_financial_ratios_at_the_limit(rule_id, passes, fails):
    book = guarantees({})
    at = run(book, financials(**passes))
    assert not found(at, rule_id)
    (finding,) = found(run(book, financials(**fails)), rule_id)
    assert finding["severity"] == "error" and finding["file"] is None and finding["value"]


def test_class_ratios_exactly_at_70_20_30_percent():
    fin = financials(
        total_assets=200_000_000.0,
        class_i_assets=40_000_000.0,
        class_ii_assets=100_000_000.0,
        class_iii_assets=60_000_000.0,
    )
    result = run(guarantees({}), fin)
    assert not {"PRU-009", "PRU-010", "PRU-011"} & rule_ids(result)
    assert result.indicators["class_i_ratio"] == 0.2
    assert result.indicators["class_i_ii_ratio"] == 0.7
    assert result.indicators["class_iii_ratio"] == 0.3


def test_pru_008_compensation_reserve_1_percent_of_measured_liability():
    # 10 parties × 10,000,000 other_financing = 100,000,000 measured → reserve at least 1,000,000
    book = guarantees(*[{"business_type": "other_financing", "outstanding_balance": 10_000_000.0}] * 10)
    assert not found(run(book, financials(compensation_reserve=1_000_000.0)), "PRU-008")
    (finding,) = found(run(book, financials(compensation_reserve=999_999.99)), "PRU-008")
    assert finding["severity"] == "warning" and finding["value"] == "0.0099999999"


def test_pru_006_value_and_message():
    (finding,) = found(run(guarantees({}), financials(paid_in_capital=19_999_999.99)), "PRU-006")
    assert finding["value"] == "19999999.99"
    assert "20,000,000.00" in finding["message_zh"]


def test_pru_002_one_finding_per_party_in_id_order():
    above = [{"party_id": f"P-{name}", "outstanding_balance": 10_000_000.01} for name in "CAB"]
    result = run(guarantees(*above, {"party_id": "P-D", "outstanding_balance": 10_000_000.0}))
    messages = [f["message_en"] for f in found(result, "PRU-002")]
    assert [m.split("party ")[1].split("'s")[0] for m in messages] == ["P-A", "P-B", "P-C"]
    assert "10000000.01 yuan is 10.00000001% of net assets, limit 10%" in messages[0]
