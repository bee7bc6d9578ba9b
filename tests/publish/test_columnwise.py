"""The numpy comparisons and replacements behind the incremental PBOC feed agree with Arrow's own kernels
(``not_equal`` of a ``take`` plus validity; ``take`` of a concatenation) on generated columns: nulls,
slices, several chunks, strings longer than a word, multi-byte text, empty strings, 128-bit decimals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.publish.columnwise import Positions, replace_at, unequal_at

TEXT = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "",
            "a",
            "abcdefgh",
            "abcdefgh1",
            "abcdefgh2",
            "重庆顺达融资担保",
            "重庆顺达融资担保有限公司",
            "x" * 17,
            "x" * 16,
        ]
    ),
    st.text(max_size=20),
)
DATES = st.one_of(st.none(), st.dates(dt.date(1990, 1, 1), dt.date(2040, 12, 31)))
AMOUNTS = st.one_of(st.none(), st.integers(-(10**20), 10**20).map(lambda v: Decimal(v) / 100))
INTS = st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1))
KINDS = [(pa.string(), TEXT), (pa.date32(), DATES), (pa.decimal128(22, 2), AMOUNTS), (pa.int64(), INTS)]


def _arrow_unequal(cur: pa.Array, prev: pa.Array, at: np.ndarray) -> np.ndarray:
    before = pc.take(prev, pa.array(at, pa.int64()))
    values = pc.fill_null(pc.not_equal(cur, before), False).to_numpy(zero_copy_only=False)
    return values | (
        pc.is_valid(cur).to_numpy(zero_copy_only=False) != pc.is_valid(before).to_numpy(zero_copy_only=False)
    )


@st.composite
def columns(draw: st.DrawFn) -> tuple[pa.ChunkedArray | pa.Array, pa.ChunkedArray | pa.Array, np.ndarray]:
    """A previous column (maybe sliced or chunked), a current one drawn partly from it, and positions."""
    arrow_type, values = draw(st.sampled_from(KINDS))
    prev_values = draw(st.lists(values, min_size=1, max_size=40))
    n = draw(st.integers(0, 40))
    at = np.array(
        draw(st.lists(st.integers(0, len(prev_values) - 1), min_size=n, max_size=n)), dtype=np.int64
    )
    copied = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    cur_values = [prev_values[i] if keep else draw(values) for i, keep in zip(at, copied, strict=True)]
    prev = pa.array(["pad", *prev_values] if arrow_type == pa.string() else [None, *prev_values], arrow_type)
    prev = prev.slice(1) if draw(st.booleans()) else pa.array(prev_values, arrow_type)
    if draw(st.booleans()) and len(prev) > 1:
        cut = draw(st.integers(1, len(prev) - 1))
        prev = pa.chunked_array([prev.slice(0, cut), prev.slice(cut)])
    return pa.array(cur_values, arrow_type), prev, at


@settings(max_examples=400, deadline=None)
@given(columns())
def test_unequal_at_is_arrows_not_equal_of_the_gather(case) -> None:
    cur, prev, at = case
    flat = prev.combine_chunks() if isinstance(prev, pa.ChunkedArray) else prev
    assert unequal_at(cur, prev, at).tolist() == _arrow_unequal(cur, flat, at).tolist()


@settings(max_examples=400, deadline=None)
@given(columns())
def test_replace_at_is_a_take_of_the_concatenation(case) -> None:
    new, prev, at = case
    at, first = np.unique(at, return_index=True)  # positions are distinct
    new = new.take(pa.array(first, pa.int64()))
    flat = prev.combine_chunks() if isinstance(prev, pa.ChunkedArray) else prev
    index = np.arange(len(flat), dtype=np.int64)
    index[at] = np.arange(len(flat), len(flat) + len(new), dtype=np.int64)
    expected = pc.take(pa.concat_arrays([flat, new]), pa.array(index))
    for got in (
        replace_at(prev, at, new),
        replace_at(prev, at, new, differs=True),
    ):  # compared here, or known
        assert got.type == expected.type and got.null_count == expected.null_count
        assert got.to_pylist() == expected.to_pylist()
        got.validate(full=True)


def test_strings_differing_only_past_the_first_word_or_in_length_are_unequal() -> None:
    prev = pa.array(["abcdefgh1", "abcdefgh", "", None, "重庆顺达融资担保有限公司", "abcdefgh12345678X"])
    cur = pa.array(["abcdefgh2", "abcdefgh\x00", "", None, "重庆顺达融资担保有限公司", "abcdefgh12345678Y"])
    assert unequal_at(cur, prev, np.arange(6)).tolist() == [True, True, False, False, False, True]
    assert unequal_at(pa.array([None, ""]), pa.array(["", None]), np.array([0, 1])).tolist() == [True, True]


def test_replace_at_keeps_the_column_when_nothing_differs() -> None:
    prev = pa.array([dt.date(2026, 9, 30), None, dt.date(2026, 10, 31)])
    same = replace_at(prev, np.array([2, 1]), pa.array([dt.date(2026, 10, 31), None]))
    assert same is prev
    changed = replace_at(prev, np.array([1]), pa.array([dt.date(2026, 11, 30)]))
    assert changed.to_pylist() == [dt.date(2026, 9, 30), dt.date(2026, 11, 30), dt.date(2026, 10, 31)]
    assert changed.null_count == 0 and prev.null_count == 1


@settings(max_examples=300, deadline=None)
@given(columns(), st.data())
def test_positions_in_the_states_order_with_new_rows_last_compare_as_a_take_does(case, data) -> None:
    # a filing in its state's order with new accounts appended: the leading rows are compared through a
    # filter of the previous column; what it finds is what a gather finds, and new rows count as changed
    cur, prev, _ = case
    flat = prev.combine_chunks() if isinstance(prev, pa.ChunkedArray) else prev
    leading = data.draw(st.integers(0, min(len(cur), len(flat))))
    at = np.array(sorted(data.draw(st.sets(st.integers(0, len(flat) - 1), min_size=leading, max_size=leading))),
                  dtype=np.int64)
    present = np.arange(len(cur)) < leading
    expected = np.ones(len(cur), dtype=bool)
    expected[:leading] = _arrow_unequal(cur.slice(0, leading), flat, at)
    full_at = np.concatenate([at, np.zeros(len(cur) - leading, dtype=np.int64)])
    assert Positions(full_at, len(flat), present).unequal(cur, prev).tolist() == expected.tolist()
    shuffled = np.random.default_rng(leading).permutation(len(cur))  # any order: the take path
    got = Positions(full_at[shuffled], len(flat), present[shuffled]).unequal(cur.take(pa.array(shuffled, pa.int64())), prev)
    assert got.tolist() == expected[shuffled].tolist()
