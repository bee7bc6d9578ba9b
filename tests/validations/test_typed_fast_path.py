"""The typed fast path of phase 1 (one Arrow cast per column, trimming and nulls decided from Arrow's
offsets) against the text path (each cell parsed on its own, where a bad cell forces the regular
expressions, and Arrow's own trim): same typed values, same FMT-005 findings, on generated bad cells."""

from __future__ import annotations

import re
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas import get_template
from schemas.codes import ID_TYPE_FOR_CATEGORY
from validations.findings import Findings
from validations.parse import _parse_column, _trimmed

SPEC = get_template("1.0").file("guarantees")
COLUMNS = {kind: next(c for c in SPEC.columns if c.type.value == kind)
           for kind in ("amount", "rate", "decimal", "date", "bool", "string")}
GOOD = {"amount": "1234.50", "rate": "0.015", "decimal": "0.5", "date": "2026-10-31", "bool": "true",
        "string": "张三"}

_pieces = st.sampled_from([
    "", " ", "\t", "\u3000", "\u00a0", "\x1c", "0", "1", "9", "12", ".", "-", "+", "e", "E", "3", "00", "345",
    "NaN", "inf", "1e309", "12.345", "12.340", "0.020000000000000001", "2026-02-30", "2026-10-31", "是", "否",
    "yes", "T", "true", "false", "True", "FALSE", "x", "99999999999999999", "1234567890123456", "张", "Ⅲ", "é", "\U0001F600", ",", "#N/A",
    "0" * 30, "9" * 20,  # past 38 digits Arrow's decimal parse is not exact
])
_cells = st.lists(_pieces, min_size=0, max_size=5).map("".join)


def _parse(kind: str, values: list[str]) -> tuple[list, list[tuple[int, str | None]]]:
    column = COLUMNS[kind]
    findings = Findings()
    raw = pa.chunked_array([pa.array(values, pa.string())])
    unicode = column.type.value == "string"
    typed = _parse_column("guarantees", column, _trimmed(raw, unicode), findings)
    table = findings.to_table()
    found = sorted(zip(table["row"].to_pylist(), table["value"].to_pylist(), strict=True))
    return typed.to_pylist(), found


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(sorted(COLUMNS)), cells=st.lists(_cells, min_size=1, max_size=6),
       good=st.integers(min_value=0, max_value=20))
def test_typed_fast_path_matches_text_path(kind: str, cells: list[str], good: int) -> None:
    values = [GOOD[kind]] * good + cells
    typed, found = _parse(kind, values)
    # the text path: each cell alone (a bad cell fails the cast and takes the regular expressions)
    expected_typed, expected_found = [], []
    for i, value in enumerate(values):
        one_typed, one_found = _parse(kind, [value])
        expected_typed += one_typed
        expected_found += [(i + 1, v) for _, v in one_found]
    assert typed == expected_typed
    assert found == sorted(expected_found)
    # trimming from the first and last bytes is Arrow's trim
    unicode = kind == "string"
    raw = pa.chunked_array([pa.array(values, pa.string())])
    reference = pc.utf8_trim_whitespace(raw) if unicode else pc.ascii_trim_whitespace(raw)
    assert _trimmed(raw, unicode).equals(reference)


# --- one table per file: the text view and the shared codes against the text they replace ------------

FILE_COLUMNS = ("guarantee_id", "party_id", "related_group_id", "party_category", "account_type", "status",
                "outstanding_balance", "start_date", "agri")
_code_cells = st.sampled_from(["", " ", "micro", " micro", "micro\u3000", "MICRO", "active", "commercial",
                               "policy", "farmer", "x", "\u00a0small", "张"])
_id_cells = st.sampled_from(["", " ", "G1", "G1 ", "G2", "\u3000G1", "g1", "张三", "P0001", "\t"])
_drawn = {
    "party_id_type": st.sampled_from(["", "USCC", "RIC", " RIC", "uscc", "x"]),
    "industry_code": st.sampled_from(["", "0111", "9799", "9801", "0011", "011", "01110", "01a1", " 0111", "１２３４"]),
    "district_code": st.sampled_from(["", "500113", "50011", "5001130", "50011x", "500113 "]),
    "business_type": st.sampled_from(["", "loan", "housing_loan", "bond", "other", "LOAN"]),
}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), rows=st.integers(min_value=1, max_value=8))
def test_one_table_text_view_and_codes_match_the_text(data: st.DataObject, rows: int) -> None:
    """ParsedFile keeps one typed table: its text view (text and code columns read back from the typed
    strings, other columns as filed) is exactly the trimmed filed text, and the shared dictionary codes
    answer SCH-002's and SCH-006's questions exactly as string comparisons on that text do."""
    from validations.parse import parse_file
    from validations.phases.schema import check_schema

    raw: dict[str, list[str]] = {}
    for column in SPEC.columns:
        if column.name in ("guarantee_id", "party_id", "related_group_id"):
            raw[column.name] = data.draw(st.lists(_id_cells, min_size=rows, max_size=rows))
        elif column.name in ("party_category", "account_type", "status"):
            raw[column.name] = data.draw(st.lists(_code_cells, min_size=rows, max_size=rows))
        elif column.name in _drawn:
            raw[column.name] = data.draw(st.lists(_drawn[column.name], min_size=rows, max_size=rows))
        elif column.name in FILE_COLUMNS:
            raw[column.name] = data.draw(st.lists(_cells, min_size=rows, max_size=rows))
        else:
            raw[column.name] = [GOOD.get(column.type.value, "1")] * rows
    table = pa.table({name: pa.array(values, pa.string()) for name, values in raw.items()})
    parse_findings = Findings()
    parsed = parse_file(SPEC, table, parse_findings)
    assert parsed is not None
    for column in SPEC.columns:
        unicode = column.type.value == "string"
        expected = _trimmed(table[column.name], unicode)
        assert parsed.text[column.name].to_pylist() == expected.to_pylist(), column.name
        if column.type.value in ("string", "code"):
            text = expected.to_pylist()
            assert parsed.codes.is_null(column.name).tolist() == [v == "" for v in text]
            if column.codes is not None:
                assert parsed.codes.is_in(column.name, column.codes).tolist() == [v in column.codes for v in text]
    # SCH-002 and SCH-006 from the codes, against the plain reading of the text
    findings = Findings()
    import datetime as dt
    check_schema({"guarantees": parsed}, findings, dt.date(2026, 10, 31))
    found = findings.to_table().to_pylist()
    got_002 = sorted((f["column"], f["row"], f["value"]) for f in found if f["rule_id"] == "SCH-002")
    want_002 = sorted(
        (c.name, i + 1, v) for c in SPEC.columns if c.codes is not None
        for i, v in enumerate(parsed.text[c.name].to_pylist()) if v != "" and v not in c.codes
    )
    assert got_002 == want_002
    ids = parsed.text["guarantee_id"].to_pylist()
    want_006 = [(i + 1, v) for i, v in enumerate(ids) if v != "" and v in ids[:i]]
    got_006 = sorted((f["row"], f["value"]) for f in found if f["rule_id"] == "SCH-006")
    assert got_006 == want_006
    # SCH-001 from the typed validity (exact where no cell failed to parse: phase 2 runs only then),
    # SCH-004 and SCH-007 from the codes, against the plain reading of the text
    unparsable = {f["column"] for f in parse_findings.to_table().to_pylist() if f["rule_id"] == "FMT-005"}
    text = {c.name: parsed.text[c.name].to_pylist() for c in SPEC.columns}
    want_001 = sorted(
        (c.name, i + 1) for c in SPEC.columns if c.name not in unparsable for i, v in enumerate(text[c.name])
        for applies in ([True] if c.required else []) + [text[k.column][i] in k.values for k in c.required_when]
        if v == "" and applies
    )
    got_001 = sorted((f["column"], f["row"]) for f in found if f["rule_id"] == "SCH-001" and f["column"] not in unparsable)
    assert got_001 == want_001
    want_004 = sorted(
        i + 1 for i, (category, id_type) in enumerate(zip(text["party_category"], text["party_id_type"], strict=True))
        if category in ID_TYPE_FOR_CATEGORY and id_type not in (ID_TYPE_FOR_CATEGORY[category], "")
    )
    assert sorted(f["row"] for f in found if f["rule_id"] == "SCH-004") == want_004

    def industry_ok(v: str) -> bool:
        return re.fullmatch(r"[0-9]{4}", v) is not None and 1 <= int(v[:2]) <= 97

    want_007 = sorted(
        [("industry_code", i + 1) for i, v in enumerate(text["industry_code"]) if v and not industry_ok(v)]
        + [("district_code", i + 1) for i, v in enumerate(text["district_code"]) if v and not re.fullmatch(r"[0-9]{6}", v)]
    )
    assert sorted((f["column"], f["row"]) for f in found if f["rule_id"] == "SCH-007") == want_007


def test_needs_trim_at_the_byte_range_edges() -> None:
    """A chunk with no byte at or below 0x20 (nor, for free text, at or above 0x80) needs no trim; one
    with such a byte is judged value by value: a space inside a value is not one to trim."""
    from validations.parse import _needs_trim

    def needs(values: list[str], unicode: bool) -> bool:
        return _needs_trim(pa.chunked_array([pa.array(values, pa.string())]), unicode)

    assert not needs(["a!", "!b", "~"], unicode=False)  # 0x21 and 0x7E: nothing to look at
    assert not needs(["a b", "c\td"], unicode=False)  # whitespace inside values only
    assert needs(["ab", "c "], unicode=False) and needs(["\x0bab"], unicode=False)
    assert not needs(["张三", "李四"], unicode=True)  # ideographs at both ends
    assert needs(["张三", "\u3000李四"], unicode=True) and needs(["李四\u00a0"], unicode=True)
    assert not needs(["", "", "x"], unicode=True)


@pytest.mark.parametrize(("kind", "value", "expected"), [
    ("amount", "1.5" + "0" * 60, Decimal("1.50")),  # Arrow's cast alone reads 0.00
    ("amount", "0" * 60 + "1.5", Decimal("1.50")),
    ("amount", "-" + "0" * 40 + ".5" + "0" * 40, Decimal("-0.50")),
    ("decimal", "9" * 39, None),  # Arrow's cast alone reads a wrong negative number
    ("decimal", "1" + "0" * 30, None),  # 31 integer digits: Arrow's cast alone reads a wrong number
    ("decimal", "9" * 20, Decimal("9" * 20)),  # 20 integer digits: the most RATIO holds
    ("decimal", "12345678901234569999999999999999912345678901234561234567890123456", None),
    ("decimal", "-" + "9" * 40, None),
    ("decimal", "0" * 50 + "12345678901234567890.123456789012345678" + "0" * 50,
     Decimal("12345678901234567890.123456789012345678")),  # 20 + 18 digits: the most RATIO holds
    ("decimal", "9" * 20 + "." + "9" * 18 + "0" * 10, Decimal("9" * 20 + "." + "9" * 18)),
    ("amount", "9" * 16 + ".99", Decimal("9" * 16 + ".99")),
    ("amount", "9" * 17, None),
])
def test_values_longer_than_arrows_exact_parse(kind: str, value: str, expected: Decimal | None) -> None:
    """Arrow's string-to-decimal cast is exact only while the value at the target's scale fits 128 bits:
    longer values, valid (padding zeros) or not, are decided by the regular expression, alone or beside
    good cells."""
    for values in ([value], [GOOD[kind], value, GOOD[kind]]):
        typed, found = _parse(kind, values)
        row = values.index(value)
        assert typed[row] == expected
        assert [r for r, _ in found] == ([] if expected is not None else [row + 1])


@pytest.mark.parametrize("kind", ["amount", "rate", "decimal"])
def test_empty_cells_keep_a_column_on_the_cast(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """An optional numeric column with empty cells (nulls beside the values) is typed by the one cast:
    its longest value and its exponents are read from the offsets over the null slots too (which span no
    bytes), where a column with nulls used to take the regular expression for every cell."""
    values = [GOOD[kind], "", " ", "0012.0", ""]

    def refused(*args: object, **kwargs: object) -> None:
        raise AssertionError("the regular expression ran")

    with monkeypatch.context() as patched:
        patched.setattr(pc, "match_substring_regex", refused)
        typed, found = _parse(kind, values)
    assert typed == [Decimal(GOOD[kind]), None, None, Decimal("12"), None] and found == []
    for slow in ("1e3", "1" + "0" * 30):  # an exponent, or a value too long for an exact cast, beside empty cells
        typed, found = _parse(kind, ["", slow, GOOD[kind]])
        assert typed[0] is None and typed[2] == Decimal(GOOD[kind])
        assert (typed[1] is None) == (found == [(2, slow)])


# --- a repetitive number column is cast once per distinct value: the same values, the same refusals -------

_repeated_pool = st.sampled_from(["0.0075", "0.01", "1", "0.7", "000.50", "-0.00", "12.345", "1e3", "abc", "9" * 17])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pool=st.lists(_repeated_pool, min_size=1, max_size=4, unique=True), rows=st.integers(1024, 3000),
       empty_every=st.integers(2, 50), seed=st.integers(0, 2**16))
def test_a_repetitive_column_casts_as_the_direct_cast(pool: list[str], rows: int, empty_every: int, seed: int) -> None:
    import random

    from validations.parse import _cast_through_distinct, _repetitive

    chooser = random.Random(seed)
    values = [None if i % empty_every == 0 else chooser.choice(pool) for i in range(rows)]
    column = pa.chunked_array([pa.array(values[: rows // 3], pa.string()), pa.array(values[rows // 3 :], pa.string())])
    filled = rows - column.null_count
    for target in (pa.decimal128(18, 2), pa.decimal128(38, 18)):
        try:
            expected = pc.cast(column, target).to_pylist()
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            with pytest.raises((pa.ArrowInvalid, pa.ArrowNotImplementedError)):
                _cast_through_distinct(column, target)
            continue
        cast = _cast_through_distinct(column, target)
        assert cast.to_pylist() == expected
    # at most 4 distinct values: through them when enough rows are filled and at most half are empty
    assert _repetitive(column) == (filled >= 1024 and 2 * column.null_count <= rows)


def test_a_repetitive_rate_column_with_one_bad_cell_is_found_at_its_row() -> None:
    column = COLUMNS["rate"]
    values = ["0.015", "0.02", "", "0.0075"] * 1000
    values[2345] = "0.01x"
    findings = Findings()
    typed = _parse_column("guarantees", column, _trimmed(pa.chunked_array([pa.array(values)]), False), findings)
    assert [r["row"] for r in findings.to_table().to_pylist()] == [2346]
    assert typed[0].as_py() == Decimal("0.015") and typed[2].as_py() is None and typed[2345].as_py() is None
    assert typed[3999].as_py() == Decimal("0.0075")
