"""Per-period roll-ups: hand-computed totals over three guarantors."""

import pyarrow as pa
import pytest

from validations.prudential.rollup import period_rollup


def test_district_share_is_households_over_households_and_grades_are_counted():
    indicators = pa.table({
        "institution_id": ["G1", "G2", "C1"],
        "in_district_households": [26, 74, 10],
        "small_micro_agri_households": [22, 50, 1],
        "financing_exposure": [100.0, 200.0, 300.0],
        "subsidy_amount": [3624.65, 0.0, 10.005],
        "subsidy_sme_fee": [1657.53, 0.0, 10.005],
        "subsidy_land_income": [1868.49, 0.0, 0.0],
        "subsidy_rural_startup": [98.63, 0.0, 0.0],
    })
    grades = pa.table({"grade": ["B", "D", "D"], "late_filing": [False, True, False]})
    out = period_rollup(indicators, grades, government_ids=["G1", "G2"])
    # (22 + 50) / (26 + 74) = 0.72 < 0.75: the district misses the target; C1 is not in POL-001's population
    assert out["small_micro_agri_household_share"] == pytest.approx(0.72)
    assert out["meets_household_target"] is False
    assert out["grade_distribution"] == {"A": 0, "B": 1, "C": 0, "D": 2}
    assert out["late_filers"] == 1
    assert out["subsidy_by_program"]["sme_fee"] == pytest.approx(1667.54)
    assert out["subsidy_total"] == pytest.approx(3634.66)  # 3624.65 + 10.005 → rounded to the fen
    assert out["financing_exposure"] == 600.0


def test_exactly_at_the_target_meets_it():
    indicators = pa.table({"institution_id": ["G"], "in_district_households": [100], "small_micro_agri_households": [75]})
    assert period_rollup(indicators, pa.table({"grade": pa.array([], pa.string())}))["meets_household_target"] is True
