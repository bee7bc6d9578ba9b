"""Published datasets (outputs.md §2): versioned, never rewritten, RIC ids pseudonymised, natural
persons' names masked (outputs.md 2.0 §2)."""

from __future__ import annotations

import dataclasses
import os

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from connectors.datasets import DatasetStore, mask_person_names, pseudonym_key, pseudonymise_party_ids
from connectors.datasets.pseudonymise import MissingKeyError
from connectors.datasets.tables import (
    findings_table,
    guarantees_table,
    indicators_table,
    mask_guarantees,
    subsidies_table,
)
from connectors.intake import read_package
from tests.packages import SAMPLES
from tests.validations.vcheck import NOW
from validations.engine import validate
from validations.results import AcceptedFiling

KEY = b"test-key-0123456789abcdef"


@pytest.fixture(scope="module")
def sample_result():
    from tests.packages import registry

    result = validate(read_package(SAMPLES / "valid-2026-10"), registry(), now=NOW)
    return AcceptedFiling.of(result, submission_id=1, sequence=1, period="2026-10", accepted_at=None)


def test_versions_are_appended_and_identical_content_is_not_rewritten(tmp_path):
    store = DatasetStore(tmp_path)
    first = store.write("grades", "2026-10", pa.table({"grade": ["B"]}), institution_id="X" * 18)
    again = store.write("grades", "2026-10", pa.table({"grade": ["B"]}), institution_id="X" * 18)
    assert again == first and first.version == 1
    corrected = store.write("grades", "2026-10", pa.table({"grade": ["A"]}), institution_id="X" * 18)
    assert corrected.version == 2
    assert pq.read_table(first.path / "part.parquet")["grade"].to_pylist() == ["B"]  # v1 untouched
    assert not os.access(first.path / "part.parquet", os.W_OK) or os.geteuid() == 0
    assert oct((first.path / "part.parquet").stat().st_mode)[-3:] == "444"
    assert store.read("grades", "2026-10")["grade"].to_pylist() == ["A"]
    meta = pq.read_schema(corrected.path / "part.parquet").metadata
    assert meta[b"danbao.schema_version"] == b"1" and meta[b"danbao.dataset"] == b"grades"


def test_read_takes_the_latest_version_of_each_partition(tmp_path):
    store = DatasetStore(tmp_path)
    store.write("grades", "2026-10", pa.table({"grade": ["B"]}), institution_id="A" * 18)
    store.write("grades", "2026-10", pa.table({"grade": ["C"]}), institution_id="B" * 18)
    store.write("grades", "2026-10", pa.table({"grade": ["A"]}), institution_id="A" * 18)
    store.write("grades", "2026-09", pa.table({"grade": ["D"]}), institution_id="A" * 18)
    assert sorted(store.read("grades", "2026-10")["grade"].to_pylist()) == ["A", "C"]
    assert store.read("grades", "2026-11") is None
    assert len(store.read("grades")) == 3


def test_pseudonymisation_is_keyed_and_stable():
    ids = pa.array(["50011319650721970X", "91500113342F88691Q", "50011319650721970X"])
    types = pa.array(["RIC", "USCC", "RIC"])
    out = pseudonymise_party_ids(ids, types, KEY).to_pylist()
    assert out[1] == "91500113342F88691Q"
    assert out[0] == out[2] and out[0].startswith("ric:") and "50011319650721970X" not in out[0]
    assert pseudonymise_party_ids(ids, types, b"another-key-0123456789").to_pylist()[0] != out[0]


def test_publishing_needs_a_key(monkeypatch, tmp_path):
    monkeypatch.delenv("DANBAO_PSEUDONYM_KEY", raising=False)
    with pytest.raises(MissingKeyError):
        pseudonym_key()
    local = tmp_path / "secrets" / "pseudonym.key"
    first = pseudonym_key(local)  # the embedded setup: a random key, created once, private
    assert first == pseudonym_key(local) and len(first) == 64
    assert oct(local.stat().st_mode)[-3:] == "600"
    monkeypatch.setenv("DANBAO_PSEUDONYM_KEY", "from-the-environment-123")
    assert pseudonym_key(local) == b"from-the-environment-123"
    monkeypatch.setenv("DANBAO_PSEUDONYM_KEY", "short")
    with pytest.raises(MissingKeyError):
        pseudonym_key(local)


def test_no_resident_id_in_the_clear_in_any_published_table(sample_result):
    rics = set(pc.filter(sample_result.tables["guarantees"]["party_id"],
                         pc.equal(sample_result.tables["guarantees"]["party_id_type"], "RIC")).to_pylist())
    assert rics
    tables = [indicators_table(sample_result, 1, KEY), findings_table(sample_result, 1, KEY),
              guarantees_table(sample_result, 1, KEY), subsidies_table(sample_result, 1)]
    for table in tables:
        for column in table.columns:
            if pa.types.is_string(column.type):
                assert not rics & set(column.to_pylist()), table.column_names


def test_guarantees_table_traces_rows_and_keeps_amounts(sample_result):
    table = guarantees_table(sample_result, 7, KEY)
    assert table["source_row"].to_pylist()[:3] == [1, 2, 3]
    assert set(table["submission_id"].to_pylist()) == {7}
    assert table["guaranteed_amount"].to_pylist() == sample_result.tables["guarantees"]["guaranteed_amount"].to_pylist()


def test_published_amounts_and_rates_are_exact_decimals(sample_result, tmp_path):
    """rules.md 1.1: the ledger publishes amounts as decimal(18, 2) (whole fen) and rates and shares as
    decimal(38, 18), and they come back from Parquet unchanged."""
    table = guarantees_table(sample_result, 7, KEY)
    for name in ("loan_amount", "guaranteed_amount", "outstanding_balance"):
        assert table.schema.field(name).type == pa.decimal128(18, 2)
    for name in ("liability_share", "fee_rate", "loan_interest_rate"):
        assert table.schema.field(name).type == pa.decimal128(38, 18)
    pq.write_table(table, tmp_path / "g.parquet")
    assert pq.read_table(tmp_path / "g.parquet").equals(table)


def test_indicators_table_flattens_subsidies_by_program(sample_result):
    row = indicators_table(sample_result, 1, KEY).to_pylist()[0]
    assert row["subsidy_land_income"] == pytest.approx(1868.49)
    assert row["subsidy_sme_fee"] == pytest.approx(1657.53)
    assert row["subsidy_rural_startup"] == pytest.approx(98.63)
    assert row["grade"] == "B" and row["institution_id"] == "91500113095M34E68F" and row["period"] == "2026-10"


# -- natural persons' names (outputs.md 2.0 §2) ---------------------------------------------------


def test_natural_persons_names_are_masked_to_their_first_character(sample_result):
    """outputs.md 2.0 §2: "The name of a natural person (a `RIC` party) is masked to its first character
    followed by `*` (`赵*`)"; enterprises (`USCC` parties) keep their names. The PBOC feed, which carries
    the full identity where the law provides for it, is not a published dataset and is not masked."""
    filed = sample_result.tables["guarantees"]
    table = guarantees_table(sample_result, 1, KEY)
    is_ric = pc.equal(filed["party_id_type"], "RIC").to_pylist()
    assert any(is_ric) and not all(is_ric)
    for ric, before, after in zip(is_ric, filed["party_name"].to_pylist(), table["party_name"].to_pylist(), strict=True):
        assert after == (before[0] + "*" if ric else before)
    ric_names = {n for n, r in zip(filed["party_name"].to_pylist(), is_ric, strict=True) if r}
    for published in (table, findings_table(sample_result, 1, KEY), indicators_table(sample_result, 1, KEY),
                      subsidies_table(sample_result, 1)):
        for column in published.columns:
            if pa.types.is_string(column.type):
                assert not ric_names & set(column.to_pylist()), published.column_names


@pytest.mark.parametrize(("name", "masked"), [
    ("赵四", "赵*"), ("赵", "赵*"), ("欧阳修", "欧*"), ("  王小明", "王*"), ("𠀋一", "𠀋*"), ("Zhao Si", "Z*"),
    ("", "*"), (None, None), ("赵*", "赵*"),
])
def test_mask_person_names_cases(name, masked):
    """One `*` whatever the length (the mask tells nothing of the name), the first character a code
    point after leading blanks, and masking twice changes nothing (outputs.md 2.0 §2: `赵*`)."""
    assert mask_person_names(pa.array([name], pa.string()), pa.array(["RIC"])).to_pylist() == [masked]
    assert mask_person_names(pa.array([name], pa.string()), pa.array(["USCC"])).to_pylist() == [name]


def test_a_name_without_an_id_type_is_masked_and_empty_columns_pass():
    names = pa.chunked_array([["赵四", "重庆某某有限公司"], ["钱五"]])
    types = pa.chunked_array([[None, "USCC"], ["RIC"]], pa.string())
    assert mask_person_names(names, types).to_pylist() == ["赵*", "重庆某某有限公司", "钱*"]
    assert mask_person_names(pa.array([], pa.string()), pa.array([], pa.string())).to_pylist() == []


def test_findings_about_a_persons_name_carry_the_masked_name(sample_result):
    """A finding's value on `party_name` is the name as filed: masked as in the ledger for a RIC row,
    kept for an enterprise's row, masked when the row is not in the ledger."""
    filed = sample_result.tables["guarantees"]
    types = filed["party_id_type"].to_pylist()
    ric_row, uscc_row = types.index("RIC") + 1, types.index("USCC") + 1
    names = filed["party_name"].to_pylist()
    extra = pa.table({
        "rule_id": ["SCH-009"] * 4, "severity": ["warning"] * 4, "file": ["guarantees"] * 3 + ["financials"],
        "row": pa.array([ric_row, uscc_row, 10_000, 1], pa.int64()),
        "column": ["party_name", "party_name", "party_name", "party_name"],
        "value": [names[ric_row - 1], names[uscc_row - 1], "孙六", "x"],
        "message_zh": ["…"] * 4, "message_en": ["…"] * 4,
    }).cast(sample_result.findings.schema)
    result = dataclasses.replace(sample_result, findings=pa.concat_tables([sample_result.findings, extra]))
    values = findings_table(result, 1, KEY)["value"].to_pylist()[-4:]
    assert values == [names[ric_row - 1][0] + "*", names[uscc_row - 1], "孙*", "x"]


def test_a_guarantees_table_published_in_clear_is_masked_again_idempotently(sample_result):
    table = guarantees_table(sample_result, 1, KEY)
    assert mask_guarantees(table).equals(table)
    assert mask_guarantees(pa.table({"grade": ["A"]})).equals(pa.table({"grade": ["A"]}))


def test_the_compensations_dataset_names_the_lending_bank_and_the_delay(tmp_path):
    """Each payout with its guarantee's ``lender_code`` (from the ledger) and, for template 1.1,
    ``payout_days`` = compensation_date − bank_claim_date; a 1.0 filing has no claim date: null."""
    from decimal import Decimal

    from connectors.datasets.tables import compensations_table
    from tests.packages import registry

    checked = validate(read_package(SAMPLES / "valid-2026-10"), registry(), now=NOW)
    filing = AcceptedFiling.of(checked, submission_id=3, sequence=1, period="2026-10", accepted_at=None)
    table = compensations_table(filing, 3)
    assert table.select(["source_row", "compensation_id", "guarantee_id", "lender_code", "payout_days"]).to_pylist() == [
        {"source_row": 1, "compensation_id": "DC001", "guarantee_id": "BNC0", "lender_code": "C1234", "payout_days": None}]
    assert table["amount_paid"].to_pylist() == [Decimal("598765.43")]  # exact, as filed
    store = DatasetStore(tmp_path / "datasets")
    store.write("compensations", "2026-10", table, institution_id=filing.institution_id)
    narrow = store.read("compensations", "2026-10", columns=["lender_code", "payout_days", "no_such_column"])
    assert narrow.column_names == ["lender_code", "payout_days"]  # only what was asked, and what exists
    # the 1.1 case (a claim date, so a delay) is checked through the portal, by hand per payout (tests/web/test_banks.py)
