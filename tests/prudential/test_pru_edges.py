"""Edge cases: empty filings, null ratios, compensation rate, multi-chunk tables."""

from __future__ import annotations

import pyarrow as pa

from validations.prudential.indicators import INDICATOR_KEYS

from .helpers import compensations, day, found, guarantees, rule_ids, run

NULLABLE = {
    "leverage_ratio", "max_party_ratio", "max_party_id", "max_group_ratio", "max_group_id",
    "small_micro_agri_household_share", "small_micro_agri_exposure_share", "weighted_fee_rate",
    "small_micro_agri_weighted_fee_rate", "compensation_rate",
}  # fmt: skip


def test_a_filing_without_rows():
    result = run(guarantees())
    assert list(result.indicators) == list(INDICATOR_KEYS)
    assert {k for k, v in result.indicators.items() if v is None} == NULLABLE - {"leverage_ratio"}
    assert result.indicators["leverage_ratio"] == 0.0  # 0 / 100,000,000
    assert result.indicators["in_district_households"] == 0
    assert result.findings.to_table().num_rows == 0
    assert result.grade().grade == "A"


def test_only_non_financing_rows():
    result = run(guarantees({"business_type": "non_financing", "outstanding_balance": 2_000_000.0}))
    assert result.indicators["financing_exposure"] == 0.0
    assert result.indicators["non_financing_exposure"] == 2_000_000.0
    assert result.indicators["max_party_id"] is None and result.indicators["weighted_fee_rate"] is None


def test_compensation_rate_over_rows_ended_in_the_period():
    rows = guarantees(
        {"guarantee_id": "C1", "status": "compensated", "outstanding_balance": 0.0,
         "guaranteed_amount": 600_000.0,
         "closed_date": day("2026-10-08")},
        {"status": "released", "outstanding_balance": 0.0, "guaranteed_amount": 1_000_000.0,
         "closed_date": day("2026-10-31")},
        {"status": "released", "outstanding_balance": 0.0, "guaranteed_amount": 5_000_000.0,
         "closed_date": day("2026-09-30")},  # ended before the period: not in the base
        {"guaranteed_amount": 9_000_000.0, "outstanding_balance": 1_000_000.0},  # active: not in the base
    )  # fmt: skip
    paid = compensations({"compensation_id": "D1", "guarantee_id": "C1",
                          "compensation_date": day("2026-10-08"),
                          "amount_paid": 400_000.0, "recovered_to_date": 0.0})  # fmt: skip
    result = run(rows, comp=paid)
    # 400,000 / (600,000 + 1,000,000) = 0.25
    assert result.indicators["compensated_in_period"] == 400_000.0
    assert result.indicators["compensation_rate"] == 0.25
    # without compensations: 0 paid, rate 0 over a non-empty base
    assert run(rows).indicators["compensated_in_period"] == 0.0
    assert run(rows, comp=compensations()).indicators["compensation_rate"] == 0.0


def test_multi_chunk_tables_give_the_same_rows_and_numbers():
    first = guarantees({"party_id": "P-X", "outstanding_balance": 6_000_000.0},
                       {"guarantor_relation": "controlling_shareholder"})  # fmt: skip
    second = guarantees({"party_id": "P-X", "outstanding_balance": 4_000_000.01},
                        {"industry_code": "6637", "subsidy_program": "land_income"})  # fmt: skip
    chunked = pa.concat_tables([first, second])
    assert chunked["party_id"].num_chunks == 2
    combined = chunked.combine_chunks()
    a, b = run(chunked), run(combined)
    assert a.indicators == b.indicators
    assert a.findings.to_table().equals(b.findings.to_table())
    assert [f["row"] for f in found(a, "PRU-004")] == [2]
    assert [f["row"] for f in found(a, "NEG-004")] == [4]
    assert [f["row"] for f in found(a, "SUB-001")] == [4]  # a large party is no farmer
    assert "PRU-002" in rule_ids(a)  # P-X: 10,000,000.01 across the two chunks
