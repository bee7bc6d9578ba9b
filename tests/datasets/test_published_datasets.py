"""Published datasets (outputs.md §2): versioned, never rewritten, RIC ids pseudonymised."""

from __future__ import annotations

import os

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from connectors.datasets import DatasetStore, pseudonym_key, pseudonymise_party_ids
from connectors.datasets.pseudonymise import MissingKeyError
from connectors.datasets.tables import findings_table, guarantees_table, indicators_table, subsidies_table
from connectors.intake import read_package
from tests.packages import SAMPLES
from tests.validations.vcheck import NOW
from validations.engine import validate

KEY = b"test-key-0123456789abcdef"


@pytest.fixture(scope="module")
def sample_result():
    from tests.packages import registry

    return validate(read_package(SAMPLES / "valid-2026-10"), registry(), now=NOW)


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
