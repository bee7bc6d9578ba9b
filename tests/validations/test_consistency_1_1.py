"""Rules 1.2-draft BIZ-013..015 on template 1.1 at their boundaries (docs/spec/rules-1.2-draft.md: "above"
and ">" are strict, a value exactly at the line is within it), with hand-computed numbers, through a
generated 1.1 package and the engine as `danbao check` runs it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from connectors.registry import read_registry_csv
from connectors.synthetic import generate_period
from tests.packages import Package
from tests.validations.vcheck import run, where

PERIOD = "2026-10"


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> tuple[Path, dict]:
    """A valid 1.1 package with payouts (the second guarantor of seed 7 has two)."""
    root = tmp_path_factory.mktemp("biz-1-1")
    packages = generate_period(root, 3, 30, PERIOD, seed=7, template="1.1")
    with_payouts = next(p for p in packages if (p / "compensations.csv").exists())
    return with_payouts, read_registry_csv(root / "registry.csv")


@pytest.fixture
def pkg(generated, tmp_path) -> Package:
    import shutil

    shutil.copytree(generated[0], tmp_path / "pkg")
    return Package(tmp_path / "pkg")


def _check(pkg: Package, generated, rule_id: str) -> list[tuple]:
    return where(run(pkg.root, reg=generated[1]), rule_id)


def _loan_row(pkg: Package) -> int:
    header, rows = pkg.rows("guarantees")
    return next(i for i, r in enumerate(rows, 1) if r[header.index("business_type")] == "loan")


def test_the_generated_package_is_clean_on_biz_013_to_015(pkg, generated):
    result = run(pkg.root, reg=generated[1])
    assert str(result.status) == "accepted", result.findings.to_pylist()[:3]


@pytest.mark.parametrize(("liability", "bank", "reguarantee", "over"), [
    ("0.4", "0.4", "0.2", False),                      # 4:2:2:2's guarantor, bank and re-guarantor: exactly 1
    ("0.1", "0.2", "0.7", False),                      # exactly 1 in decimals; in binary floats 1.0000000000000002
    ("0.4", "0.4", "0.200000000000000001", True),      # 1 + 10⁻¹⁸: over by the last decimal the template carries
    ("1", "0.000000000000000001", "", True),           # the whole and a hair more, no re-guarantee
    ("1", "0", "", False),                              # the guarantor alone, all of it
])  # fmt: skip
def test_biz013_the_three_shares_never_exceed_the_whole(pkg, generated, liability, bank, reguarantee, over):
    row = _loan_row(pkg)
    pkg.set("guarantees", row, "liability_share", liability).set("guarantees", row, "bank_risk_share", bank)
    pkg.set("guarantees", row, "reguarantee_share", reguarantee)
    if reguarantee:
        pkg.set("guarantees", row, "reguarantee_ref", "ZDB-2026-0001")
    assert _check(pkg, generated, "BIZ-013") == ([("guarantees", row, "bank_risk_share")] if over else [])


def _row_where(pkg: Package, column: str, values: tuple[str, ...]) -> int:
    header, rows = pkg.rows("guarantees")
    return next(i for i, r in enumerate(rows, 1) if r[header.index(column)] in values)


@pytest.mark.parametrize(("day", "late"), [("2026-10-31", False), ("2026-11-01", True), ("2026-10-01", False)])
def test_biz014_collateral_registered_on_or_before_the_period_end(pkg, generated, day, late):
    row = _row_where(pkg, "counter_guarantee", ("mortgage", "pledge"))
    pkg.set("guarantees", row, "collateral_reg_date", day)
    assert _check(pkg, generated, "BIZ-014") == ([("guarantees", row, "collateral_reg_date")] if late else [])


@pytest.mark.parametrize(("day", "late"), [("2026-10-31", False), ("2026-11-01", True)])
def test_biz014_five_category_date_on_or_before_the_period_end(pkg, generated, day, late):
    row = _row_where(pkg, "five_category", ("2", "3", "4", "5"))
    pkg.set("guarantees", row, "five_category_date", day)
    assert _check(pkg, generated, "BIZ-014") == ([("guarantees", row, "five_category_date")] if late else [])


@pytest.mark.parametrize(("days_after_payout", "late"), [(-30, False), (0, False), (1, True)])
def test_biz014_the_bank_claims_on_or_before_the_payout(pkg, generated, days_after_payout, late):
    paid = dt.date.fromisoformat(pkg.get("compensations", 1, "compensation_date"))
    pkg.set("compensations", 1, "bank_claim_date", (paid + dt.timedelta(days=days_after_payout)).isoformat())
    assert _check(pkg, generated, "BIZ-014") == ([("compensations", 1, "bank_claim_date")] if late else [])


@pytest.mark.parametrize(("written_off_fen", "over"), [(0, False), (1, True), (-1, False)])
def test_biz015_recovered_and_written_off_never_exceed_the_payout(pkg, generated, written_off_fen, over):
    """recovered + written off against amount_paid, to the fen: equal is within, one fen more is over."""
    paid = Decimal(pkg.get("compensations", 1, "amount_paid"))
    recovered = (paid / 3).quantize(Decimal("0.01"))
    written_off = paid - recovered + Decimal(written_off_fen) / 100  # hand-computed: the rest, ± one fen
    pkg.set("compensations", 1, "recovered_to_date", str(recovered))
    pkg.set("compensations", 1, "written_off_to_date", str(written_off))
    assert recovered + written_off - paid == Decimal(written_off_fen) / 100
    assert _check(pkg, generated, "BIZ-015") == ([("compensations", 1, "written_off_to_date")] if over else [])
