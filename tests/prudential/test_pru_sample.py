"""The worked example tests/data/samples/valid-2026-10 through phase 4: indicators, warnings, subsidy and
grade exactly as valid-2026-10.expected.json says."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from validations.context import Period
from validations.findings import FINDINGS_SCHEMA
from validations.prudential import evaluate
from validations.prudential.indicators import INDICATOR_KEYS

from .helpers import SAMPLES, institution, sample

AMOUNTS = {
    "financing_exposure", "measured_financing_liability", "non_financing_exposure", "net_assets_for_leverage",
    "compensated_in_period", "subsidy_amount",
}  # fmt: skip


@pytest.fixture(scope="module")
def expected() -> dict:
    return json.loads((SAMPLES / "valid-2026-10.expected.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def result():
    guarantees, financials, compensations = sample()
    return evaluate(guarantees, financials, compensations, institution(), Period.parse("2026-10"))


def test_every_expected_indicator(result, expected):
    got = result.indicators
    for key, want in expected["indicators"].items():
        value = got[key]
        if key in AMOUNTS:
            assert abs(value - want) < 0.005, key  # to the fen
        elif isinstance(want, float):
            assert value == pytest.approx(want, rel=1e-6), key
        elif isinstance(want, dict):
            assert value == want and list(value) == list(want), key  # land_income, sme_fee, rural_startup
        else:
            assert value == want and type(value) is type(want), key


def test_every_outputs_key_is_present(result):
    assert set(INDICATOR_KEYS) <= set(result.indicators)
    # the one key the expected file does not list: BN202600023, 1,051,000 × 1 of non_financing
    assert result.indicators["non_financing_exposure"] == 1_051_000.0


def test_warnings_are_exactly_pol_002_and_sub_001(result, expected):
    table = result.findings.to_table()
    assert table.schema == FINDINGS_SCHEMA
    assert set(table["severity"].to_pylist()) == {"warning"}
    assert sorted(set(table["rule_id"].to_pylist())) == expected["warnings"] == ["POL-002", "SUB-001"]


def test_sub_001_is_row_28_only(result):
    # Hand check of the seven rows that claim a program (data rows, header excluded):
    #  25 BNF0 land_income farmer 0.8%               eligible
    #  26 BNF1 land_income farmer 0.8%               eligible
    #  27 BNS0 sme_fee small loan 500113 1.5%        eligible
    #  28 BNS1 sme_fee micro loan 500112 1.5%        NOT eligible: outside the subsidy district 500113
    #  29 BNS2 rural_startup micro 1.0%              eligible (≤ 1%, inclusive)
    #  30 BNS3 sme_fee medium loan 500113 2.0%       eligible (≤ 2%, inclusive; released on 10-12)
    subs = [f for f in result.findings.to_table().to_pylist() if f["rule_id"] == "SUB-001"]
    assert [(f["file"], f["row"], f["column"], f["value"]) for f in subs] == [
        ("guarantees", 28, "subsidy_program", "sme_fee")
    ]


def test_pol_002_is_institution_level(result):
    (finding,) = [f for f in result.findings.to_table().to_pylist() if f["rule_id"] == "POL-002"]
    assert finding["file"] is None and finding["row"] is None
    assert Decimal(finding["value"]) == pytest.approx(Decimal("0.0141094247"))
    assert "1%" in finding["message_zh"] and "1.41094247%" in finding["message_en"]


def test_subsidy_rows_by_hand(result):
    # period 2026-10 has 31 days; amount = G × points × days / 365, half-up to the fen
    #  BNF0 1,300,000 × 1%   × 31/365 = 403,000/365 = 1,104.1096 → 1,104.11
    #  BNF1   900,000 × 1%   × 31/365 = 279,000/365 =   764.3836 →   764.38
    #  BNS0 5,000,000 × 0.5% × 22/365 (10-10..10-31) = 550,000/365 = 1,506.8493 → 1,506.85
    #  BNS2   300,000 × 1%   × 12/365 (10-20..10-31) =  36,000/365 =    98.6301 →    98.63
    #  BNS3 1,000,000 × 0.5% × 11/365 (10-01..10-11, closed 10-12) = 55,000/365 = 150.6849 → 150.68
    rows = [
        (r["guarantee_id"], r["row"], r["program"], r["days"], r["amount"])
        for r in result.subsidies.to_pylist()
    ]
    assert rows == [
        ("BNF0", 25, "land_income", 31, Decimal("1104.11")),
        ("BNF1", 26, "land_income", 31, Decimal("764.38")),
        ("BNS0", 27, "sme_fee", 22, Decimal("1506.85")),
        ("BNS2", 29, "rural_startup", 12, Decimal("98.63")),
        ("BNS3", 30, "sme_fee", 11, Decimal("150.68")),
    ]
    # land_income 1,868.49; sme_fee 1,657.53; rural_startup 98.63; total 3,624.65
    assert result.indicators["subsidy_amount"] == 3624.65


def test_grade_b(result, expected):
    graded = result.grade(result.findings.to_table())
    assert graded.grade == expected["grade"] == "B"
    assert graded.reasons == ("POL-002",)
    assert graded.measures_zh == "无" and graded.measures_en == "none"
    assert result.grade().grade == "B"  # default: this phase's own findings


def test_household_counts_by_hand(result):
    # Active financing rows in 500113: BN202600000..022 (23 parties; 023 is non_financing), 张三 (BNF0 and
    # BNF1, one party), BNS0, BNS2 → 26 households; BNS1 is in 500112, BNS3/BNC0 have ended.
    # Not small-micro/三农: the large BN…05 and BN…11, and the non-agri medium BN…02 and BN…14 → 22.
    assert result.indicators["in_district_households"] == 26
    assert result.indicators["small_micro_agri_households"] == 22
