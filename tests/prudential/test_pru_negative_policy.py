"""NEG-001..005 (negative list, high interest) and POL-001..003 at their boundaries; period 2026-10."""

from __future__ import annotations

from .helpers import (
    COMMERCIAL_ID,
    FOCUS_ID,
    GOV_ID,
    day,
    found,
    guarantees,
    institution,
    rows_of,
    rule_ids,
    run,
)

ENDED = {"status": "released", "outstanding_balance": 0.0, "closed_date": day("2026-10-20")}

# ---------------------------------------------------------------- NEG-001 / NEG-005 overcapacity


def test_neg_001_started_in_the_period_and_neg_005_before_it():
    result = run(guarantees(
        {"industry_code": "3011", "start_date": day("2026-10-01")},  # 1: first day of the period → NEG-001
        {"industry_code": "3110", "start_date": day("2026-10-31")},  # 2: last day → NEG-001
        {"industry_code": "3011", "start_date": day("2026-09-30")},  # 3: before, active → NEG-005
        {"industry_code": "3011", "start_date": day("2026-09-30"), **ENDED},  # 4: before, ended → nothing
        {"industry_code": "3216", "start_date": day("2026-10-05"), **ENDED},  # 5: in period, ended → NEG-001
        {"industry_code": "3011", "business_type": "non_financing",
         "start_date": day("2026-10-05")},  # 6: not a financing guarantee → nothing
        {"industry_code": "3012", "start_date": day("2026-10-05")},  # 7: not a listed class → nothing
    ))  # fmt: skip
    assert [(f["row"], f["column"], f["value"], f["severity"]) for f in found(result, "NEG-001")] == [
        (1, "industry_code", "3011", "error"),
        (2, "industry_code", "3110", "error"),
        (5, "industry_code", "3216", "error"),
    ]
    assert [(f["row"], f["severity"]) for f in found(result, "NEG-005")] == [(3, "warning")]


def test_neg_002_real_estate_and_neg_004_online_lending():
    result = run(guarantees(
        {"industry_code": "7010"},  # 1: NEG-002 warning
        {"industry_code": "6637", **ENDED},  # 2: NEG-004 error, whatever the status
        {"industry_code": "6637", "business_type": "non_financing"},  # 3: not financing
    ))  # fmt: skip
    assert [(f["row"], f["severity"]) for f in found(result, "NEG-002")] == [(1, "warning")]
    assert [(f["row"], f["severity"], f["value"]) for f in found(result, "NEG-004")] == [(2, "error", "6637")]


# ---------------------------------------------------------------- NEG-003 high interest


def test_neg_003_exactly_4_times_lpr_passes_above_fires():
    # started 2025-06-01: LPR 3.00% → limit 12%
    result = run(guarantees(
        {"start_date": day("2025-06-01"), "loan_interest_rate": 0.12},  # 1: at the limit
        {"start_date": day("2025-06-01"), "loan_interest_rate": 0.1201},  # 2: above
        {"start_date": day("2025-06-01"), "loan_interest_rate": 0.1201, "business_type": "housing_loan"},  # 3
        {"start_date": day("2025-06-01"), "loan_interest_rate": 0.5, "business_type": "other_financing"},  # 4
    ))  # fmt: skip
    findings = found(result, "NEG-003")
    assert [(f["row"], f["column"], f["value"]) for f in findings] == [
        (2, "loan_interest_rate", "0.1201"),
        (3, "loan_interest_rate", "0.1201"),
    ]
    assert "3%" in findings[0]["message_en"] and "12%" in findings[0]["message_en"]


def test_neg_003_on_an_lpr_change_day_uses_the_new_rate():
    # 2025-05-20 the LPR fell from 3.10% to 3.00%: a loan starting that day is limited to 12%;
    # one starting 2025-05-19 still has 4 × 3.10% = 12.4%
    result = run(guarantees(
        {"start_date": day("2025-05-20"), "loan_interest_rate": 0.12},  # 1: allowed
        {"start_date": day("2025-05-20"), "loan_interest_rate": 0.1201},  # 2: above 12%
        {"start_date": day("2025-05-19"), "loan_interest_rate": 0.1201},  # 3: allowed (≤ 12.4%)
        {"start_date": day("2025-05-19"), "loan_interest_rate": 0.124},  # 4: at 12.4%, allowed
        {"start_date": day("2025-05-19"), "loan_interest_rate": 0.1241},  # 5: above 12.4%
    ))  # fmt: skip
    assert rows_of(result, "NEG-003") == [2, 5]


def test_neg_003_over_the_lpr_history():
    result = run(guarantees(
        {"start_date": day("2020-04-20"), "loan_interest_rate": 0.154},  # 1: 4 × 3.85% exactly
        {"start_date": day("2020-04-19"), "loan_interest_rate": 0.1621},  # 2: 4 × 4.05% = 16.2% → above
        {"start_date": day("2019-08-20"), "loan_interest_rate": 0.17},  # 3: 4 × 4.25% exactly
        {"start_date": day("2019-08-19"), "loan_interest_rate": 0.30},  # 4: before the first LPR: not checked
    ))  # fmt: skip
    assert rows_of(result, "NEG-003") == [2]


# ---------------------------------------------------------------- POL-001 in-district households


def _households(*large: bool) -> list[dict]:
    """One in-district party per flag: large non-agri when True, micro when False."""
    return [{"party_category": "large"} if flag else {"party_category": "micro"} for flag in large]


def test_pol_001_exactly_75_percent_passes():
    # 3 small-micro/三农 of 4 in-district households = 75%; an out-of-district large party does not count
    rows = [*_households(False, False, False, True), {"party_category": "large", "district_code": "500112"}]
    result = run(guarantees(*rows), inst=institution(GOV_ID))
    assert "POL-001" not in rule_ids(result)
    assert (
        result.indicators["in_district_households"],
        result.indicators["small_micro_agri_households"],
    ) == (4, 3)
    assert result.indicators["small_micro_agri_household_share"] == 0.75


def test_pol_001_below_75_percent_for_a_government_guarantor_only():
    rows = _households(False, False, False, True, True)  # 3 of 5 = 60%
    (finding,) = found(run(guarantees(*rows), inst=institution(GOV_ID)), "POL-001")
    assert finding["value"] == "0.6" and finding["severity"] == "warning"
    assert "POL-001" not in rule_ids(run(guarantees(*rows), inst=institution(COMMERCIAL_ID)))
    assert "POL-001" not in rule_ids(run(guarantees(*rows), inst=institution(FOCUS_ID)))  # mixed


def test_pol_001_counts_distinct_parties_and_any_qualifying_row():
    result = run(guarantees(
        {"party_id": "P-1", "party_category": "large", "agri": False},
        {"party_id": "P-1", "party_category": "large", "agri": True},  # same party, 三农 row → qualifies
        {"party_id": "P-2", "party_category": "large"},
        {"party_id": "P-2", "party_category": "large"},
        {"party_id": "P-3", "party_category": "farmer", **ENDED},  # ended: not a household in force
    ))  # fmt: skip
    assert result.indicators["in_district_households"] == 2
    assert result.indicators["small_micro_agri_households"] == 1


# ---------------------------------------------------------------- POL-002 fee rate


def test_pol_002_weighted_fee_rate_exactly_1_percent_passes():
    # (1,000,000 × 0.9% + 1,000,000 × 1.1%) / 2,000,000 = 1.0%; the large party is not small-micro/三农
    rows = [{"party_category": "micro", "fee_rate": 0.009}, {"party_category": "small", "fee_rate": 0.011},
            {"party_category": "large", "fee_rate": 0.03}]  # fmt: skip
    result = run(guarantees(*rows))
    assert "POL-002" not in rule_ids(result)
    assert result.indicators["small_micro_agri_weighted_fee_rate"] == 0.01
    # (0.9% + 1.1% + 3%) / 3 over all active financing rows
    assert abs(result.indicators["weighted_fee_rate"] - 0.05 / 3) < 1e-15


def test_pol_002_above_1_percent_for_government_and_mixed_only():
    # (1,000,000 × 0.9% + 1,000,000 × 1.12%) / 2,000,000 = 1.01%
    rows = [{"party_category": "micro", "fee_rate": 0.009}, {"party_category": "farmer", "fee_rate": 0.0112}]
    for institution_id, fires in ((GOV_ID, True), (FOCUS_ID, True), (COMMERCIAL_ID, False)):
        assert ("POL-002" in rule_ids(run(guarantees(*rows), inst=institution(institution_id)))) is fires


def test_pol_002_is_exposure_weighted():
    # 3,000,000 at 0.8% and 1,000,000 at 1.6%: (24,000 + 16,000) / 4,000,000 = 1.0% → passes
    rows = [{"party_category": "micro", "fee_rate": 0.008, "outstanding_balance": 3_000_000.0},
            {"party_category": "micro", "fee_rate": 0.016, "outstanding_balance": 1_000_000.0}]  # fmt: skip
    assert "POL-002" not in rule_ids(run(guarantees(*rows)))


# ---------------------------------------------------------------- POL-003 exposure share


def test_pol_003_exactly_80_percent_passes_below_fires_for_focus_only():
    focus = institution(FOCUS_ID)
    at = [
        {"party_category": "micro", "outstanding_balance": 8_000_000.0, "fee_rate": 0.01},
        {"party_category": "large", "outstanding_balance": 2_000_000.0},
    ]  # 8,000,000 / 10,000,000 = 80%
    below = [at[0], {"party_category": "large", "outstanding_balance": 2_000_000.01}]  # 79.99999992%
    result = run(guarantees(*at), inst=focus)
    assert "POL-003" not in rule_ids(result)
    assert result.indicators["small_micro_agri_exposure_share"] == 0.8
    (finding,) = found(run(guarantees(*below), inst=focus), "POL-003")
    assert finding["severity"] == "warning"
    assert "POL-003" not in rule_ids(run(guarantees(*below), inst=institution(GOV_ID)))
