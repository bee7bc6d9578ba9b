"""Phase 3 (BIZ-001..012): each rule at its boundary, on a copy of the valid sample (period 2026-10)."""

from __future__ import annotations

import dataclasses

import pytest

from tests.packages import GOV_ID
from tests.validations.vcheck import hits, rule_ids, run, where
from validations.engine import FilingStatus

# row 2 of the valid sample: active loan, start 2025-02-02, maturity 2027-02-15, guaranteed 260700, loan 296250


@pytest.mark.parametrize(("maturity", "fails"), [("2025-02-02", True), ("2025-02-01", True), ("2025-02-03", False)])
def test_biz001_maturity_after_start(pkg, maturity, fails):
    pkg.set("guarantees", 2, "maturity_date", maturity)
    assert (where(run(pkg.root), "BIZ-001") == [("guarantees", 2, "maturity_date")]) is fails


@pytest.mark.parametrize(("balance", "fails"), [("260700.00", False), ("260700.01", True)])
def test_biz002_outstanding_not_above_guaranteed(pkg, balance, fails):
    pkg.set("guarantees", 2, "outstanding_balance", balance)
    assert (where(run(pkg.root), "BIZ-002") == [("guarantees", 2, "outstanding_balance")]) is fails


@pytest.mark.parametrize(("loan", "fails"), [("260700.00", False), ("260699.99", True)])
def test_biz003_guaranteed_above_loan_is_a_warning(pkg, loan, fails):
    pkg.set("guarantees", 2, "loan_amount", loan)
    result = run(pkg.root)
    assert (where(result, "BIZ-003") == [("guarantees", 2, "guaranteed_amount")]) is fails
    assert result.status != FilingStatus.REJECTED


@pytest.mark.parametrize(("start", "fails"), [("2026-10-31", False), ("2026-11-01", True)])
def test_biz004_start_after_period_end(pkg, start, fails):
    pkg.set("guarantees", 2, "start_date", start)
    assert (("guarantees", 2, "start_date") in where(run(pkg.root), "BIZ-004")) is fails


@pytest.mark.parametrize(
    ("closed", "fails"),
    [("2025-10-12", True), ("2025-10-13", False), ("2026-10-31", False), ("2026-11-01", True)],
)
def test_biz004_closed_date_within_start_and_period_end(pkg, closed, fails):
    pkg.set("guarantees", 30, "closed_date", closed)  # row 30: released, start 2025-10-12
    assert (where(run(pkg.root), "BIZ-004") == [("guarantees", 30, "closed_date")]) is fails


@pytest.mark.parametrize(("balance", "fails"), [("0", False), ("0.01", True)])
def test_biz005_ended_with_balance(pkg, balance, fails):
    pkg.set("guarantees", 30, "outstanding_balance", balance)
    assert (where(run(pkg.root), "BIZ-005") == [("guarantees", 30, "outstanding_balance")]) is fails


@pytest.mark.parametrize(("maturity", "fails"), [("2026-10-01", False), ("2026-09-30", True)])
def test_biz006_active_but_matured_before_the_period(pkg, maturity, fails):
    pkg.set("guarantees", 2, "maturity_date", maturity)
    result = run(pkg.root)
    assert (where(result, "BIZ-006") == [("guarantees", 2, "maturity_date")]) is fails
    assert result.status != FilingStatus.REJECTED


def test_biz007_compensation_must_name_a_compensated_row(pkg):
    pkg.set("compensations", 1, "guarantee_id", "BN202600001")  # active, not compensated
    assert where(run(pkg.root), "BIZ-007") == [("compensations", 1, "guarantee_id")]


@pytest.mark.parametrize(
    ("date", "fails"), [("2026-09-30", True), ("2026-10-01", False), ("2026-10-31", False), ("2026-11-01", True)]
)
def test_biz007_compensation_date_within_the_period(pkg, date, fails):
    pkg.set("compensations", 1, "compensation_date", date)
    assert (where(run(pkg.root), "BIZ-007") == [("compensations", 1, "compensation_date")]) is fails


def test_biz008_net_assets_above_total_assets(pkg):
    pkg.set("financials", 1, "net_assets", "420000000.01")
    assert where(run(pkg.root), "BIZ-008") == [("financials", 1, "net_assets")]
    pkg.set("financials", 1, "net_assets", "420000000")
    assert "BIZ-008" not in rule_ids(run(pkg.root))


@pytest.mark.parametrize(("class_iii", "fails"), [("100000001", False), ("100000001.01", True)])
def test_biz008_asset_classes_within_total_less_receivable_plus_one_yuan(pkg, class_iii, fails):
    # total 420,000,000 − receivable 10,000,000 = 410,000,000; I + II = 310,000,000
    pkg.set("financials", 1, "class_iii_assets", class_iii)
    assert (where(run(pkg.root), "BIZ-008") == [("financials", 1, "class_iii_assets")]) is fails


def test_biz009_account_type_for_government_and_mixed_only(pkg, sample_registry):
    pkg.set("guarantees", 2, "account_type", "")
    assert where(run(pkg.root), "BIZ-009") == [("guarantees", 2, "account_type")]
    commercial = dict(sample_registry)
    commercial[GOV_ID] = dataclasses.replace(commercial[GOV_ID], kind="commercial")
    assert "BIZ-009" not in rule_ids(run(pkg.root, reg=commercial))
    mixed = dict(sample_registry)
    mixed[GOV_ID] = dataclasses.replace(mixed[GOV_ID], kind="mixed")
    assert where(run(pkg.root, reg=mixed), "BIZ-009") == [("guarantees", 2, "account_type")]


def test_biz010_against_the_last_accepted_filing(pkg, sample_registry):
    """BIZ-010: last period had A active, B released, C active; now A is missing, B is active, C ended."""
    import pyarrow as pa

    from connectors.intake import read_package
    from tests.validations.vcheck import NOW, hits
    from validations.engine import validate

    previous = pa.table({
        "guarantee_id": ["GONE", "BNS3", "BN202600001", "BN202600002"],
        "status": ["active", "released", "active", "released"],
    })
    pkg.set("guarantees", 2, "status", "active")  # BN202600001 stays active: fine
    result = validate(read_package(pkg.root), sample_registry, now=NOW, previous_guarantees=previous)
    found = sorted(((f["row"] or 0), f["column"], f["value"]) for f in hits(result, "BIZ-010"))
    # GONE vanished (no row, shown as 0 here); BN202600002 (row 3) was released and is active again
    assert found == [(0, "guarantee_id", "GONE"), (3, "status", "BN202600002")]
    assert all(f["severity"] == "warning" for f in hits(result, "BIZ-010"))
    assert result.status == "needs_confirmation"


# --- rules 1.1: BIZ-011 (one party, several related groups) and BIZ-012 (period_end) ----------------

# rows 25 and 26 of the valid sample are one farmer party (张三, BNF0 and BNF1), without group
ZHANG = 25, 26


@pytest.mark.parametrize(
    ("first", "second", "reported"),
    [
        ("G1", "G2", [(26, "G2")]),  # two groups: the row that differs from the first row is reported
        ("G1", "G1", []),  # one group on both rows
        ("G1", "", []),  # one group named, one row naming none: a single related_group_id
        ("", "G1", []),
    ],
)
def test_biz011_one_party_with_two_groups(pkg, first, second, reported):
    pkg.set("guarantees", ZHANG[0], "related_group_id", first)
    pkg.set("guarantees", ZHANG[1], "related_group_id", second)
    result = run(pkg.root)
    assert [(f["row"], f["value"]) for f in hits(result, "BIZ-011")] == reported
    assert all(f["severity"] == "warning" and f["column"] == "related_group_id" for f in hits(result, "BIZ-011"))
    assert result.status != FilingStatus.REJECTED


@pytest.mark.parametrize(
    ("groups", "reported"),
    [
        # rows 1, 7, 13 made one party: every row whose group differs from the first row's, "" included
        (("", "G1", "G2"), [(7, "G1"), (13, "G2")]),
        (("G1", "", "G2"), [(7, ""), (13, "G2")]),
        (("G1", "G2", "G1"), [(7, "G2")]),
    ],
)
def test_biz011_rows_that_differ_from_the_first_row(pkg, groups, reported):
    party = pkg.get("guarantees", 1, "party_id")  # a micro USCC party; rows 7 and 13 are USCC parties too
    for row, group in zip((1, 7, 13), groups, strict=True):
        pkg.set("guarantees", row, "party_id", party)
        pkg.set("guarantees", row, "related_group_id", group)
    result = run(pkg.root)
    assert sorted((f["row"], f["value"]) for f in hits(result, "BIZ-011")) == reported
    first_group = groups[0] or "(empty)"
    assert all(f"{party}'s first row names related group {first_group}" in f["message_en"]
               for f in hits(result, "BIZ-011"))


@pytest.mark.parametrize(
    ("period_end", "fails"),
    [("2026-10-31", False), ("2026-10-30", True), ("2026-11-01", True), ("2026-09-30", True)],
)
def test_biz012_period_end_is_the_last_day_of_the_manifest_period(pkg, period_end, fails):
    pkg.set("financials", 1, "period_end", period_end)
    result = run(pkg.root)
    assert (where(result, "BIZ-012") == [("financials", 1, "period_end")]) is fails
    assert (result.status == FilingStatus.REJECTED) is fails
    if fails:
        (finding,) = hits(result, "BIZ-012")
        assert finding["value"] == period_end and "2026-10-31" in finding["message_en"]
