"""Error injection: each kind changes only the rows it names, and the rule engine finds exactly what it says."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from connectors.synthetic import (
    KINDS,
    PACKAGE_ERRORS,
    Expected,
    inject,
    package_errors,
    parse_kinds,
    reported,
    status,
    write_package,
)
from connectors.synthetic.inject import TEMPLATE_1_1_KINDS
from tests.synthetic.helpers import PERIOD, check, filing, found

# the kinds of template 1.1's rules are tested on 1.1 tables in test_template_1_1.py
KINDS_1_0 = {name: kind for name, kind in KINDS.items() if name not in TEMPLATE_1_1_KINDS}
SINGLE = {"financials_unbalanced", "wrong_period_end", "bad_sha", "bad_manifest"}  # one per package whatever the count


@pytest.fixture(scope="module")
def base() -> dict[str, pa.Table]:
    return filing(3000, seed=4)


def changed_rows(before: pa.Table, after: pa.Table) -> set[int]:
    """1-based rows where any column differs (same columns, same length)."""
    rows = np.zeros(before.num_rows, dtype=bool)
    for name in before.column_names:
        rows |= ~np.asarray(pc.equal(before[name], after[name]).to_numpy(zero_copy_only=False), dtype=bool)
    return {int(r) + 1 for r in np.flatnonzero(rows)}


@pytest.mark.parametrize("kind", sorted(KINDS_1_0))
def test_each_kind_is_found_exactly_by_the_engine(tmp_path, base, registry_table, registry, kind):
    institution = registry_table.to_pylist()[0]  # government: BIZ-009 applies
    count = 1 if kind in SINGLE else 2
    tables, expected = inject(base, [f"{kind}:{count}"], seed=9, institution_kind=institution["kind"])
    assert len(expected) == count
    assert {(e.rule_id, e.file) for e in expected} == {(KINDS[kind].rule_id, KINDS[kind].file)}

    package = write_package(tmp_path, institution, PERIOD, tables, package_errors=package_errors(expected))
    result = check(package, registry)
    assert found(result) == set(reported(expected))
    assert str(result.status) == status(expected)

    # nothing but the named rows changed
    row_level = {e.row for e in expected if e.file == "guarantees" and e.row is not None}
    g0, g1 = base["guarantees"], tables["guarantees"]
    if g0.column_names == g1.column_names:
        assert changed_rows(g0, g1) == row_level
    else:
        assert g1.num_rows == g0.num_rows
        assert set(g0.column_names) ^ set(g1.column_names)
    for file in ("financials", "compensations"):
        before, after = base[file], tables[file]
        named = {e.row for e in expected if e.file == file}
        if after.num_rows == before.num_rows:
            assert changed_rows(before, after) == named
        else:  # orphan compensations are appended
            assert after.slice(0, before.num_rows).equals(before)
            assert set(range(before.num_rows + 1, after.num_rows + 1)) == named


def test_kinds_of_one_phase_combine(tmp_path, base, registry_table, registry):
    institution = registry_table.to_pylist()[0]
    for phase in ("SCH", "BIZ"):
        kinds = [name for name, k in KINDS_1_0.items() if k.rule_id.startswith(phase)]
        tables, expected = inject(base, kinds, seed=2, institution_kind="government")
        assert len(expected) == len(kinds)
        package = write_package(tmp_path / phase, institution, PERIOD, tables)
        assert found(check(package, registry)) == set(expected)


def test_an_earlier_phase_hides_the_later_ones(base):
    _, expected = inject(base, ["bad_date", "bad_uscc", "overdue_active"], seed=1)
    assert [e.rule_id for e in reported(expected)] == ["FMT-005"]
    assert status(expected) == "rejected"
    _, warnings_only = inject(base, ["unknown_column", "guaranteed_over_loan"], seed=1)
    assert status(warnings_only) == "needs_confirmation" and len(reported(warnings_only)) == 2


def test_same_seed_same_rows_whatever_the_order(base):
    a = inject(base, ["bad_uscc", "negative_amount:3"], seed=5)
    b = inject(base, ["negative_amount:3", "bad_uscc"], seed=5)
    c = inject(base, ["bad_uscc", "negative_amount:3"], seed=6)
    assert a[1] == b[1] and a[0]["guarantees"].equals(b[0]["guarantees"])
    assert a[1] != c[1]


def test_kinds_never_share_a_row(base):
    _, expected = inject(base, {name: 3 for name, k in KINDS_1_0.items() if k.file == "guarantees"}, seed=3)
    rows = [e.row for e in expected if e.row is not None and e.file == "guarantees"]
    assert len(rows) == len(set(rows))


def test_missing_account_type_is_no_error_for_a_commercial_guarantor(base):
    tables, expected = inject(base, ["missing_account_type"], seed=1, institution_kind="commercial")
    assert expected == []
    assert pc.sum(pc.equal(tables["guarantees"]["account_type"], "")).as_py() == 1


def test_ended_with_balance_closes_an_active_row_when_none_has_ended():
    tables = filing(40, seed=1)
    g = tables["guarantees"]
    tables["guarantees"] = g.filter(pc.equal(g["status"], "active"))
    tables["compensations"] = None
    broken, expected = inject(tables, ["ended_with_balance:2"], seed=1)
    rows = [e.row - 1 for e in expected]
    assert broken["guarantees"].take(rows)["status"].to_pylist() == ["released"] * 2
    assert broken["guarantees"].take(rows)["closed_date"].to_pylist() == ["2026-10-31"] * 2


def test_argument_forms_and_errors(base):
    assert parse_kinds(["bad_uscc", "bad_uscc:2", "bad_ric"]) == {"bad_uscc": 3, "bad_ric": 1}
    assert parse_kinds({"bad_code": 4}) == {"bad_code": 4}
    with pytest.raises(ValueError, match="unknown inject kind"):
        parse_kinds(["no_such_kind"])
    with pytest.raises(ValueError, match="at least 1"):
        parse_kinds(["bad_code:0"])
    with pytest.raises(ValueError, match="eligible"):
        inject(base, ["bad_ric:100000"], seed=1)
    assert package_errors([Expected("FMT-001", "manifest.json", None), Expected("FMT-002", "guarantees", None)]) \
        == list(PACKAGE_ERRORS)


def test_inputs_are_not_modified(base):
    before = {name: table for name, table in base.items()}
    inject(base, list(KINDS)[:5], seed=1)
    assert all(base[name] is before[name] for name in before)


def test_party_in_two_groups_gives_a_grouped_party_a_second_group(base):
    """BIZ-011: the broken row keeps its party, names the party's group + "X", and is not its first row."""
    tables, expected = inject(base, ["party_in_two_groups:3"], seed=7)
    g0, g1 = base["guarantees"], tables["guarantees"]
    parties = g0["party_id"].to_pylist()
    for e in expected:
        assert (e.rule_id, e.file) == ("BIZ-011", "guarantees")
        row = e.row - 1
        before, after = g0["related_group_id"][row].as_py(), g1["related_group_id"][row].as_py()
        assert before and after == before + "X"
        assert parties.index(parties[row]) < row  # a later row of the party
        first = parties.index(parties[row])
        assert g1["related_group_id"][first].as_py() == before


def test_wrong_period_end_is_the_day_before_the_last_day(base):
    tables, expected = inject(base, ["wrong_period_end"], seed=1)
    assert expected == [Expected("BIZ-012", "financials", 1)]
    assert tables["financials"]["period_end"].to_pylist() == ["2026-10-30"]
