"""``exact.sums_by``, the per-party sums of phase 4 over dictionary codes: exact against Python's
Fractions on the integer path (int64 ``np.add.at``), at the edges of float64 (sums above 2⁵³, where a
float ``bincount`` would round), and on the fallback through Arrow's hash aggregation (values beyond
int64, groups without rows)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from validations.exact import sums_by


def _expected(values: list[Decimal], groups: list[int], count: int) -> list[Fraction]:
    sums = [Fraction(0)] * count
    for value, group in zip(values, groups, strict=True):
        sums[group] += Fraction(value)
    return sums


def test_sums_above_2_53_stay_exact() -> None:
    """2⁵³ + 1 fen twice: float64 would give 2⁵⁴ + 0 (the +1s are lost); the integer sum keeps them."""
    big = Decimal(2**53 + 1) / 100
    values = pa.array([big, big, Decimal("0.01")], pa.decimal128(18, 2))
    sums = sums_by(values, np.array([0, 0, 1]), 2)
    assert [Fraction(v) for v in sums.to_pylist()] == [Fraction(2 * (2**53 + 1), 100), Fraction(1, 100)]
    assert float(2**53 + 1) + float(2**53 + 1) != 2 * (2**53 + 1)  # what a float bincount would lose


def test_fallback_beyond_int64_and_empty_groups() -> None:
    """Unscaled values beyond int64 take Arrow's exact aggregation; a group without rows sums to 0."""
    huge = Decimal("12345678901234567890.123456")  # 26 digits unscaled: not an int64
    values = pa.array([huge, Decimal("1.000001"), huge], pa.decimal128(38, 6))
    sums = sums_by(values, np.array([2, 0, 2]), 4)
    assert [Fraction(v) for v in sums.to_pylist()] == [Fraction(Decimal("1.000001")), 0, 2 * Fraction(huge), 0]
    assert sums.type.scale == 6


@settings(max_examples=150, deadline=None)
@given(
    cells=st.lists(
        st.tuples(st.integers(min_value=-(10**18) + 1, max_value=10**18 - 1), st.integers(min_value=0, max_value=5)),
        min_size=0, max_size=30,
    ),
    scale=st.integers(min_value=0, max_value=6),
    wide=st.booleans(),
)
def test_sums_by_matches_fractions(cells: list[tuple[int, int]], scale: int, wide: bool) -> None:
    values = [Decimal(unscaled).scaleb(-scale) for unscaled, _ in cells]
    if wide:  # some values too large for an int64 when unscaled: the fallback path
        values = [v * 10**12 for v in values]
    groups = [g for _, g in cells]
    array = pa.array(values, pa.decimal128(38, scale))
    sums = sums_by(array, np.array(groups, dtype=np.int64), 6)
    assert [Fraction(v) for v in sums.to_pylist()] == _expected(values, groups, 6)
    assert sums.type.scale == scale
