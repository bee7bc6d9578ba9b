"""``exact.narrow``: the smallest scale that holds every value exactly, against Fractions."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from validations.exact import RATIO, narrow

ratios = st.decimals(min_value=Decimal("-99"), max_value=Decimal("99"), places=18, allow_nan=False,
                     allow_infinity=False)
rounded = st.builds(lambda d, places: round(d, places), ratios, st.integers(0, 18))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(rounded, st.none()), min_size=1, max_size=40))
def test_narrow_keeps_every_value_at_the_smallest_scale(values: list[Decimal | None]) -> None:
    array = pa.array(values, RATIO)
    got = narrow(array)
    assert got.to_pylist() == [None if v is None else Decimal(v) for v in values]  # equal values, same nulls
    filled = [Fraction(v) for v in values if v is not None]
    if not filled:
        assert got.type == pa.decimal128(1, 0)
        return
    scale = next(s for s in range(19) if all((f * 10**s).denominator == 1 for f in filled))
    digits = max(len(str(abs(int(f)))) for f in filled)
    assert got.type == pa.decimal128(max(digits + scale, 1), scale)
    got.validate(full=True)


def test_values_past_an_int64_take_the_checked_casts() -> None:
    array = pa.array([Decimal("12345678901234567890.5"), Decimal("1")], RATIO)
    assert narrow(array).type == pa.decimal128(21, 1)


def test_scales_past_eighteen() -> None:
    """A decimal with more than 18 decimals whose integers fit an int64: zeros narrow to scale 0, other
    values to their own trailing zeros (10^19 is past an int64 and is never tried)."""
    assert narrow(pa.array([Decimal(0), None], pa.decimal256(40, 20))).type == pa.decimal128(1, 0)
    small = pa.array([Decimal("0.00000000000000000005"), Decimal("0.0000000000000000001")], pa.decimal256(40, 20))
    got = narrow(small)
    assert got.type == pa.decimal128(21, 20) and got.to_pylist() == small.to_pylist()


@settings(max_examples=60, deadline=None)
@given(st.lists(rounded, min_size=1, max_size=5), rounded, st.integers(0, 2000))
def test_a_value_past_the_first_thousands_can_lower_the_scale(head: list[Decimal], late: Decimal, at: int) -> None:
    """The first 4,096 values' trailing zeros bound the answer; a later value with more decimals (or
    fewer digits) still decides it."""
    values = [head[i % len(head)] for i in range(6000)]
    values.insert(4096 + at, late)
    array = pa.array(values, RATIO)
    got = narrow(array)
    filled = [Fraction(v) for v in values]
    scale = next(s for s in range(19) if all((f * 10**s).denominator == 1 for f in filled))
    digits = max(len(str(abs(int(f)))) for f in filled)
    assert got.type == pa.decimal128(max(digits + scale, 1), scale)
    assert got.to_pylist() == values
