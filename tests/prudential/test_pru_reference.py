"""Reference data as dated files: values in force on a date, and a later row changing only later periods."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import pytest

from validations.prudential import ReferenceData
from validations.prudential.reference import DEFAULT_DIR, ReferenceError

from .helpers import day, financials, guarantees, rows_of, run

EPOCH = dt.date(1970, 1, 1)


def days(*texts: str) -> np.ndarray:
    return np.array([(day(t) - EPOCH).days for t in texts])


def test_shipped_values_in_force_for_2026_10():
    ref = ReferenceData.load().as_of(dt.date(2026, 10, 31))
    assert ref.integer("leverage_cap") == 10 and ref.integer("leverage_cap_focus") == 15
    assert str(ref.decimal("party_exposure_limit")) == "0.10"
    assert ref.integer("min_paid_in_capital") == 20_000_000
    assert ref.text("subsidy_district") == "500113" and ref.integer("filing_deadline_day") == 15
    assert ref.industries("NEG-001") == {
        "0610", "0620", "0690", "2521", "3011", "3041", "3110", "3120", "3130", "3140", "3216", "3731",
        "3735",
    }  # fmt: skip
    assert ref.industries("NEG-002") == {"7010"} and ref.industries("NEG-004") == {"6637"}
    assert len(ref.lpr) == 13 and ref.lpr[-1] == (dt.date(2025, 5, 20), ref.lpr[-1][1])


def test_lpr_lookup_is_vectorized_and_takes_the_new_rate_on_a_change_day():
    ref = ReferenceData.load().as_of(dt.date(2026, 10, 31))
    got = ref.lpr_on(days("2019-08-19", "2019-08-20", "2020-04-19", "2025-05-19", "2025-05-20", "2026-10-31"))
    assert np.isnan(got[0])  # before the first LPR
    assert got[1:].tolist() == [0.0425, 0.0405, 0.031, 0.03, 0.03]
    assert ref.high_interest_limit(days("2025-05-19", "2025-05-20")).tolist() == [0.124, 0.12]


@pytest.fixture
def ref_copy(tmp_path: Path) -> Path:
    target = tmp_path / "reference"
    shutil.copytree(DEFAULT_DIR, target)
    return target


def _append(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")


def test_a_future_lpr_row_changes_nothing_before_its_date(ref_copy):
    _append(ref_copy / "lpr_1y.csv", "2026-11-20,0.0250")  # 4 × 2.50% = 10%
    original, updated = ReferenceData.load(), ReferenceData.load(ref_copy)
    assert original.as_of(dt.date(2026, 10, 31)) == updated.as_of(dt.date(2026, 10, 31))

    # period 2026-10: a loan at 11% started 2026-10-15 is under 4 × 3.00% with either file
    october = guarantees({"start_date": day("2026-10-15"), "loan_interest_rate": 0.11})
    assert rows_of(run(october, reference=updated), "NEG-003") == []

    # period 2026-11: the new rate applies to loans starting on or after 2026-11-20 only
    november = guarantees(
        {"start_date": day("2026-10-15"), "loan_interest_rate": 0.11},  # 1: LPR 3.00% → 12% → allowed
        {"start_date": day("2026-11-19"), "loan_interest_rate": 0.11},  # 2: LPR 3.00% → allowed
        {"start_date": day("2026-11-20"), "loan_interest_rate": 0.10},  # 3: LPR 2.50% → 10% → at the limit
        {"start_date": day("2026-11-20"), "loan_interest_rate": 0.11},  # 4: above 10%
    )
    assert rows_of(run(november, period="2026-11", reference=updated), "NEG-003") == [4]
    assert rows_of(run(november, period="2026-11", reference=original), "NEG-003") == []


def test_a_parameter_row_applies_from_its_effective_date(ref_copy):
    _append(ref_copy / "parameters.csv", "2027-01-01,leverage_cap,8,hypothetical later rule")
    ref = ReferenceData.load(ref_copy)
    assert ref.as_of(dt.date(2026, 12, 31)).integer("leverage_cap") == 10
    assert ref.as_of(dt.date(2027, 1, 1)).integer("leverage_cap") == 8
    # a period is evaluated with the values in force on its last day
    book = guarantees(*[{"business_type": "other_financing", "outstanding_balance": 9_000_000.0}] * 10)
    fin = financials(
        net_assets=100_000_000.0, equity_in_other_guarantors=90_000_000.0
    )  # 90,000,000 / 10,000,000 = 9×
    assert run(book, fin, period="2026-12", reference=ref).indicators["leverage_cap"] == 10
    assert run(book, fin, period="2027-01", reference=ref).indicators["leverage_cap"] == 8


def test_a_new_list_version_replaces_the_rules_list(ref_copy):
    _append(ref_copy / "negative_list.csv", "2027-01-01,NEG-004,6637,网络借贷服务")
    _append(ref_copy / "negative_list.csv", "2027-01-01,NEG-004,6639,hypothetical")
    ref = ReferenceData.load(ref_copy)
    assert ref.as_of(dt.date(2026, 12, 31)).industries("NEG-004") == {"6637"}
    assert ref.as_of(dt.date(2027, 1, 1)).industries("NEG-004") == {"6637", "6639"}
    assert ref.as_of(dt.date(2027, 1, 1)).industries("NEG-001") == ref.as_of(dt.date(2026, 1, 1)).industries(
        "NEG-001"
    )


def test_a_parameter_not_yet_in_force_is_an_error():
    with pytest.raises(ReferenceError):
        ReferenceData.load().as_of(dt.date(2017, 9, 30)).decimal("leverage_cap")
