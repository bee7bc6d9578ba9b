"""Unscaled decimals read from the buffer (``exact.unscaled``, ``exact.total``) when every valid value
fits an int64, and through Arrow's checked cast and exact sum otherwise: the same integers and sums,
at the int64 boundaries, with nulls whose slots hold anything, and on sliced arrays."""

from __future__ import annotations

from decimal import Context, Decimal
from fractions import Fraction

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from validations.exact import _int64_words, int_total, sums_by, total, unscaled

I64_MAX, I64_MIN = 2**63 - 1, -(2**63)
_EXACT = Context(prec=60)  # the default 28 digits would round the drawn values


def _decimals(unscaled_ints: list[int | None], scale: int = 2) -> pa.Array:
    return pa.array([None if v is None else Decimal(v).scaleb(-scale, _EXACT) for v in unscaled_ints],
                    pa.decimal128(38, scale))


def test_the_int64_boundaries() -> None:
    inside = _decimals([I64_MAX, I64_MIN, 0, -1, 1])
    assert _int64_words(inside).tolist() == [I64_MAX, I64_MIN, 0, -1, 1]
    assert total(inside) == Fraction(I64_MAX + I64_MIN, 100)  # int_total: no int64 overflow in the sum
    for beyond in (I64_MAX + 1, I64_MIN - 1, 2**64, -(2**64) - 5):
        array = _decimals([1, beyond])
        assert _int64_words(array) is None
        with pytest.raises(pa.ArrowInvalid):
            unscaled(array)  # the checked cast still refuses it
        assert total(array) == Fraction(1 + beyond, 100)  # Arrow's exact sum


def test_a_sum_over_chosen_rows_at_the_int64_boundaries() -> None:
    ints = np.array([I64_MAX, I64_MIN, 5, I64_MAX], dtype=np.int64)
    assert int_total(ints) == I64_MAX + I64_MIN + 5 + I64_MAX  # 2**63 + 3: beyond int64, exactly
    assert int_total(ints, np.array([True, False, True, True])) == 2 * I64_MAX + 5
    assert int_total(ints, np.array([False, True, False, False])) == I64_MIN  # its magnitude is 2**63
    assert int_total(ints, np.zeros(4, dtype=bool)) == 0
    small = np.array([3, -4, 10], dtype=np.int64)  # the plain int64 sum, over the chosen rows only
    assert int_total(small, np.array([True, True, False])) == -1
    assert total(_decimals([I64_MAX, I64_MIN, 5]), np.array([True, False, True])) == Fraction(I64_MAX + 5, 100)


def test_sums_by_groups_near_the_int64_limit() -> None:
    # each group's sum fits no int64 though every value does: Arrow's exact aggregation decides
    values = _decimals([I64_MAX, I64_MAX, I64_MIN, -1, 7])
    sums = sums_by(values, np.array([0, 0, 1, 1, 2]), 4)
    assert [v.as_py() for v in sums] == [Decimal(2 * I64_MAX).scaleb(-2, _EXACT), Decimal(I64_MIN - 1).scaleb(-2, _EXACT),
                                         Decimal("0.07"), Decimal(0)]


def test_null_slots_are_not_read() -> None:
    # a null slot may hold any 16 bytes: here a value far beyond int64, under a null
    values = _decimals([5, 2**100, -7])
    validity = pa.py_buffer(np.packbits([1, 0, 1], bitorder="little"))
    with_null = pa.Array.from_buffers(values.type, 3, [validity, values.buffers()[1]], null_count=1)
    assert _int64_words(with_null, fill=-99).tolist() == [5, -99, -7]
    assert unscaled(with_null, fill=3).tolist() == [5, 3, -7]
    assert total(with_null) == Fraction(-2, 100)
    assert total(with_null, np.array([False, True, True])) == Fraction(-7, 100)


def test_a_slice_reads_its_own_values() -> None:
    array = _decimals([1, 2, None, 4, 5]).slice(1, 3)
    assert unscaled(array, fill=0).tolist() == [2, 0, 4]
    assert total(array) == Fraction(6, 100)


def test_decimal256_takes_the_cast() -> None:
    array = pa.array([Decimal("1.50"), Decimal("-2.25")], pa.decimal256(40, 2))
    assert _int64_words(array) is None
    assert unscaled(array).tolist() == [150, -225] and total(array) == Fraction(-75, 100)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(I64_MIN, I64_MAX), st.integers(-(2**100), 2**100)), max_size=12),
       st.integers(0, 6), st.data())
def test_words_and_totals_agree_with_python(values: list[int | None], scale: int, data: st.DataObject) -> None:
    array = _decimals(values, scale)
    where = np.array(data.draw(st.lists(st.booleans(), min_size=len(values), max_size=len(values))), dtype=bool)
    fits = all(v is None or I64_MIN <= v <= I64_MAX for v in values)
    words = _int64_words(array, fill=11)
    assert (words is not None) == fits
    if fits:
        assert words.tolist() == [11 if v is None else v for v in values]
    expected = sum((Fraction(v, 10**scale) for v, w in zip(values, where, strict=True) if v is not None and w),
                   Fraction(0))
    assert total(array, where) == expected


def test_runs_of_sums_that_cannot_overflow() -> None:
    # |value| ≤ 2⁵⁰: runs of 2¹² values cannot overflow, 10,000 of them could (2⁵⁰ × 10⁴ > 2⁶³)
    ints = np.full(10_000, 2**50, dtype=np.int64)
    ints[::3] = -(2**50)
    chosen = np.arange(10_000) % 2 == 0
    assert int_total(ints) == sum(int(v) for v in ints) == 3332 * 2**50
    assert int_total(ints, chosen) == sum(int(v) for v, c in zip(ints, chosen, strict=True) if c)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 63), st.integers(1, 12_000), st.integers(0, 2**32 - 1), st.booleans())
def test_int_total_is_the_sum_of_python_ints(bits: int, n: int, seed: int, extremes: bool) -> None:
    rng = np.random.default_rng(seed)
    ints = rng.integers(-(2 ** min(bits, 62)), 2 ** min(bits, 62), n, dtype=np.int64)
    if extremes:
        ints[rng.integers(0, n, 3)] = rng.choice([I64_MAX, I64_MIN], 3)
    chosen = rng.random(n) < 0.7
    assert int_total(ints) == sum(ints.tolist())
    assert int_total(ints, chosen) == sum(ints[chosen].tolist())


def test_an_arrays_words_are_read_once_and_go_with_it() -> None:
    from validations import exact

    array = _decimals([150, -25, 10, 7])
    first = total(array, np.array([True, False, True, True]))
    words = exact._WORDS[id(array)][1]
    assert first == Fraction(167, 100) and not words.flags.writeable
    assert total(array, np.array([False, True, False, False])) == Fraction(-25, 100)
    assert exact._WORDS[id(array)][1] is words  # read once
    other = _decimals([1, 2, 3, 4])  # another array: its own words
    assert total(other) == Fraction(10, 100)
    key = id(array)
    del array
    assert key not in exact._WORDS


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(0, 2**66)), min_size=1, max_size=30), st.booleans())
def test_one_sign_is_settled_by_reductions_and_matches_python(magnitudes: list[int | None], negative: bool) -> None:
    """All values of one sign take the reductions' shortcut: the same integers as Python's, None when one
    does not fit an int64 (2⁶³ − 1 and −2⁶³ are the last that do), nulls as the fill."""
    values = [None if m is None else (-m - 1 if negative else m) for m in magnitudes]
    got = _int64_words(_decimals(values), fill=7)
    fits = all(v is None or I64_MIN <= v <= I64_MAX for v in values)
    if not fits:
        assert got is None
    else:
        assert got is not None and got.tolist() == [7 if v is None else v for v in values]
