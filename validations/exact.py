"""Exact numbers from parse to published figure (rules.md 1.1, "Amounts are exact").

Every amount is a whole number of fen, and sums, weights and limits are computed and compared in exact
decimal arithmetic, never through binary floats: Arrow's decimal→float64 cast is not even correctly
rounded (466658955.90 becomes 466658955.90000004, one step too high), which put a guarantor whose Ⅲ
assets are exactly 30% of its base above the limit. So:

- Typed tables carry amounts as ``AMOUNT`` = decimal128(18, 2): yuan, exact to the fen, at most 16
  integer digits so that every amount in fen fits an int64. Rates and shares (``fee_rate``,
  ``loan_interest_rate``, ``liability_share``) are ``RATIO`` = decimal128(38, 18): any filed decimal with
  up to 18 decimals, held exactly.
- Products of a row's numbers (balance × share × weight × fee rate) need more digits than an int64
  holds, so they stay Arrow decimals, each ``multiply`` widening to decimal256 when the precision asks.
  Sums are Arrow's exact decimal sums, widened before they could overflow, and leave Arrow as Python
  ``Fraction``s; every decision against a limit is made on Fractions, on scaled integers, or by
  ``compare`` on decimals brought to a common scale.
- Floats appear only in reported figures: an indicator is the float nearest its exact value
  (``Fraction.__float__`` is correctly rounded), an amount is first rounded half-up to the fen.
"""

from __future__ import annotations

import math
import operator
import weakref
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from schemas.template import AMOUNT_TYPE as AMOUNT
from schemas.template import RATIO_TYPE as RATIO

AMOUNT_INTEGER_DIGITS = AMOUNT.precision - AMOUNT.scale
RATIO_SCALE = RATIO.scale
RATIO_INTEGER_DIGITS = RATIO.precision - RATIO.scale
_MAX_128, _MAX_256 = 38, 76

Exact = int | Decimal | Fraction
Values = pa.Array | pa.ChunkedArray

_COMPARE: dict[str, Callable[..., pa.Array]] = {
    ">": pc.greater, ">=": pc.greater_equal, "<": pc.less, "<=": pc.less_equal, "==": pc.equal,
}  # fmt: skip
_OPERATOR = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le, "==": operator.eq}


def flat(values: Values) -> pa.Array:
    """One contiguous array: a chunked column's only chunk as it is (``combine_chunks`` would copy it),
    or its chunks combined."""
    if not isinstance(values, pa.ChunkedArray):
        return values
    return values.chunk(0) if values.num_chunks == 1 else values.combine_chunks()


def _decimal_type(precision: int, scale: int) -> pa.DataType:
    if precision <= _MAX_128:
        return pa.decimal128(max(precision, 1), scale)
    if precision <= _MAX_256:
        return pa.decimal256(precision, scale)
    raise OverflowError(f"a decimal of {precision} digits does not fit decimal256")


def _reinterpret(values: pa.Array, scale: int) -> pa.Array:
    """The same unscaled integers read with another scale (no arithmetic, no copy)."""
    kind = pa.decimal128 if pa.types.is_decimal128(values.type) else pa.decimal256
    return pa.Array.from_buffers(kind(values.type.precision, scale), len(values), values.buffers(),
                                 values.null_count, values.offset)


def unscaled(values: Values, scale: int | None = None, fill: int = 0) -> np.ndarray:
    """A decimal column as its unscaled integers at ``scale`` (its own scale by default) in int64: fen
    for an amount, units of 10⁻¹⁸ for a rate. Nulls become ``fill``. The casts are checked: a value
    that has more decimals than ``scale`` or does not fit an int64 raises instead of being cut."""
    array = flat(values)
    if scale is not None and array.type.scale != scale:
        digits = array.type.precision - array.type.scale + scale
        array = pc.cast(array, _decimal_type(digits, scale))
    words = _int64_words(array, fill)
    if words is not None:
        return words
    ints = pc.cast(_reinterpret(array, 0), pa.int64())  # raises for a value beyond int64
    return np.asarray(pc.fill_null(ints, fill).to_numpy(zero_copy_only=False), dtype=np.int64)


def _int64_words(array: pa.Array, fill: int = 0) -> np.ndarray | None:
    """A decimal128 array's unscaled integers read from its buffer when every valid one fits an int64
    (its high word is the low word's sign), nulls as ``fill``; None otherwise. Arrow's checked cast
    decides the same thing in a pass that costs several times more."""
    if not pa.types.is_decimal128(array.type):
        return None
    n = len(array)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    words = np.frombuffer(array.buffers()[1], dtype=np.int64, count=2 * (array.offset + n))[2 * array.offset:]
    low, high = words[0::2], words[1::2]
    if _high_words_are_signs(low, high):  # the usual case, settled by reductions without a temporary
        return np.where(_valid(array), low, np.int64(fill)) if array.null_count else low.copy()
    if array.null_count:
        valid = _valid(array)
        if not np.array_equal(high[valid], low[valid] >> 63):
            return None
        return np.where(valid, low, np.int64(fill))
    if not np.array_equal(high, low >> 63):
        return None
    return low.copy()


def _high_words_are_signs(low: np.ndarray, high: np.ndarray) -> bool:
    """Every slot, null ones included, is a non-negative int64 (high words all 0, low words ≥ 0) or
    every slot a negative one (high words all −1, low words < 0): then each value fits an int64. False
    means "not shown" (mixed signs are left to the exact comparison)."""
    top, bottom = int(high.max()), int(high.min())
    if top == bottom == 0:
        return int(low.min()) >= 0
    if top == bottom == -1:
        return int(low.max()) < 0
    return False


def _valid(array: pa.Array) -> np.ndarray:
    return np.asarray(pc.is_valid(array).to_numpy(zero_copy_only=False), dtype=bool)


def fen(values: Values, fill: int = 0) -> np.ndarray:
    """Amounts as int64 fen."""
    return unscaled(values, 2, fill)


def scaled(value: Exact, scale: int) -> int:
    """``value × 10^scale`` as an int; raises when that is not whole (the value has more decimals)."""
    product = Fraction(value) * 10**scale
    if product.denominator != 1:
        raise ValueError(f"{value} has more than {scale} decimals")
    return product.numerator


def decimal_array(values: list[Decimal] | tuple[Decimal, ...]) -> pa.Array:
    """A short list of Decimals as the narrowest decimal array that holds each exactly."""
    scale = max([0, *(-int(v.as_tuple().exponent) for v in values)])
    digits = max([1, *(len(str(abs(int(v)))) for v in values)])
    return pa.array(list(values), _decimal_type(digits + scale, scale))


def narrow(values: Values) -> pa.Array:
    """Lossless cast to the smallest scale that holds every value, and the precision that needs: a
    column of ``0.4`` and ``0.25`` read as decimal128(38, 18) becomes decimal128(3, 2), so that its
    products with amounts stay within 38 digits. When the unscaled integers fit an int64 (rates and
    shares do), the common trailing zeros are found by a bisection of divisibility tests and the
    integers divided in numpy, instead of a gcd over every value and Arrow's 128-bit rescaling; other
    values fall back to a bisection over Arrow's checked rescaling (a cast that would drop a digit
    raises)."""
    array = flat(values)
    if len(array) == array.null_count:
        return pc.cast(array, pa.decimal128(1, 0))
    digits = _integer_digits(array)
    try:
        ints = unscaled(array)
    except (pa.ArrowInvalid, OverflowError):
        scale = _scale_by_casts(array, digits)
        return pc.cast(array, _decimal_type(digits + scale, scale))
    dropped = _common_trailing_zeros(ints, array.type.scale)
    scale = array.type.scale - dropped
    target = _decimal_type(digits + scale, scale)
    if not pa.types.is_decimal128(target):
        return pc.cast(array, target)
    if dropped:  # exact: 10^dropped divides every value (past 10^18, only zeros)
        ints = ints // 10**dropped if dropped <= 18 else np.zeros_like(ints)
    # decimal128's 16 little-endian bytes: the int64, then its sign extended
    words = np.empty((len(ints), 2), dtype=np.int64)
    words[:, 0] = ints
    np.right_shift(ints, 63, out=words[:, 1])
    validity = pc.is_valid(array).buffers()[1] if array.null_count else None
    return pa.Array.from_buffers(target, len(array), [validity, pa.py_buffer(words)], array.null_count)


def _common_trailing_zeros(ints: np.ndarray, most: int) -> int:
    """The largest k ≤ ``most`` such that 10^k divides every value (zeros divide by anything).

    The answer for the first few thousand values bounds the answer for all (a value can only lower
    it), and is nearly always the answer: one pass over the whole array confirms it; only when it
    does not is the rest of the range bisected over the whole array."""
    if not ints.any():
        return most
    # a nonzero int64 has at most 18 trailing zeros; divisibility by 10^k holds for every k up to the
    # answer, and for none above
    high = min(most, 18)
    if len(ints) > _SAMPLE:
        head = ints[:_SAMPLE]
        high = _common_trailing_zeros(head, high) if head.any() else high
        if not _has_remainder(ints, high):
            return high
        high -= 1
    low = 0
    while low < high:
        middle = (low + high + 1) // 2
        if _has_remainder(ints, middle):
            high = middle - 1
        else:
            low = middle
    return low


_SAMPLE = 4096  # values whose common trailing zeros are found first


def _has_remainder(ints: np.ndarray, k: int) -> bool:
    """Whether some value is not a multiple of 10^k."""
    return bool(k) and bool((ints % 10**k).any())


def _scale_by_casts(array: pa.Array, digits: int) -> int:
    low, high = 0, array.type.scale  # the answer lies in [low, high]
    while low < high:
        middle = (low + high) // 2
        try:
            pc.cast(array, _decimal_type(digits + middle, middle))
            high = middle
        except pa.ArrowInvalid:
            low = middle + 1
    return low


def multiply(a: Values, b: Values) -> pa.Array:
    """The exact elementwise product of two decimal columns (in decimal256 when 38 digits may not hold
    it; Arrow refuses a product whose precision does not fit rather than cutting it)."""
    a, b = flat(a), flat(b)
    precision = a.type.precision + b.type.precision + 1
    if precision > _MAX_128:
        if precision > _MAX_256:
            raise OverflowError(f"a product of {precision} digits does not fit decimal256")
        a = pc.cast(a, pa.decimal256(a.type.precision, a.type.scale))
        b = pc.cast(b, pa.decimal256(b.type.precision, b.type.scale))
    return pc.multiply(a, b)


def summable(values: Values) -> pa.Array:
    """``values`` widened so that Arrow's decimal sum of all of them cannot overflow: a sum of n values
    of p digits needs p + digits(n) digits; Arrow's sum keeps 38 (or 76), and does not check."""
    array = flat(values)
    needed = array.type.precision + len(str(max(len(array), 1)))
    if pa.types.is_decimal128(array.type) and needed > _MAX_128:
        array = pc.cast(array, pa.decimal256(_MAX_256, array.type.scale))
    elif needed > _MAX_256:
        raise OverflowError("too many values to sum exactly")
    return array


def total(values: Values, where: np.ndarray | None = None) -> Fraction:
    """The exact sum of a decimal column (over the rows where ``where`` is true), nulls as zero."""
    array = flat(values)
    ints = _summed_words(array)
    if ints is not None:  # amounts and most products: an integer sum in numpy, no filtered copy
        return Fraction(int_total(ints, where), 10**array.type.scale)
    if where is not None:
        array = array.filter(pa.array(where, pa.bool_()))
    if len(array) == array.null_count:
        return Fraction(0)
    return Fraction(pc.sum(summable(array)).as_py())


#: the int64 words of decimal arrays that ``total`` has read, by the array's identity, while it lives
_WORDS: dict[int, tuple[weakref.ref, np.ndarray | None]] = {}


def _summed_words(array: pa.Array) -> np.ndarray | None:
    """``_int64_words`` of an array, read once per array when it has no nulls: phase 4 sums the same
    exposures over many sets of rows (each read is a pass over 16 bytes a row and a copy). The words
    are read-only; an entry goes with its array."""
    if array.null_count:
        return _int64_words(array)
    key = id(array)
    entry = _WORDS.get(key)
    if entry is not None and entry[0]() is array:
        return entry[1]
    words = _int64_words(array)
    if words is not None:
        words.flags.writeable = False
    _WORDS[key] = (weakref.ref(array, lambda _, key=key: _WORDS.pop(key, None)), words)
    return words


def int_total(values: np.ndarray, where: np.ndarray | None = None) -> int:
    """The exact sum of an int64 array (of its entries where ``where`` is true) as a Python int: int64
    sums of runs short enough that none can overflow, or of the 32-bit halves when the values are so
    large that such runs would be short."""
    ints = np.asarray(values, dtype=np.int64)
    if len(ints) == 0:
        return 0
    bound = _magnitude_bound(ints)
    # any `step` values sum to at most bound × step < 2⁶²: an int64 sum of each run of them is exact
    step = len(ints) if bound == 0 else min(len(ints), 2**62 // bound)
    if step >= _SHORTEST_RUN or step == len(ints):
        runs = range(0, len(ints), step)
        if where is None:
            return sum(int(ints[i : i + step].sum()) for i in runs)
        # a sum over the chosen rows as a product with the 0/1 mask: one pass, no filtered copy
        return sum(int(np.dot(ints[i : i + step], where[i : i + step])) for i in runs)
    chosen = True if where is None else where  # values near the int64 limits: 32-bit halves
    high, low = ints >> 32, ints & 0xFFFFFFFF
    return (int(np.add.reduce(high, where=chosen)) << 32) + int(np.add.reduce(low, where=chosen))


_SHORTEST_RUN = 1 << 12  # runs shorter than this (values near 2⁶²) are summed as 32-bit halves instead


def _magnitude_bound(ints: np.ndarray) -> int:
    """The largest absolute value of a non-empty int64 array, as a Python int (−2⁶³ included): two
    reductions, no temporary array."""
    return max(int(ints.max()), -int(ints.min()))


def sums_by(values: Values, groups: np.ndarray, count: int) -> pa.Array:
    """Exact per-group sums of a decimal column (same scale, precision as the values need): group
    ``g`` of row ``i`` is ``groups[i]`` in 0..count-1. When the unscaled integers fit an int64 and no
    sum can overflow one, an integer ``np.add.at`` over them (exact, unlike a float64 ``bincount``);
    otherwise Arrow's exact hash aggregation keyed by the group numbers."""
    array = flat(values)
    scale = array.type.scale
    try:
        ints = unscaled(array)
    except (pa.ArrowInvalid, OverflowError):
        ints = None
    if ints is not None:
        bound = _magnitude_bound(ints) if len(ints) else 0
        if (bound + 1) * (len(ints) + 1) < 2**62:
            sums = np.zeros(count, dtype=np.int64)
            np.add.at(sums, groups, ints)
            return tight(_reinterpret(pc.cast(pa.array(sums, pa.int64()), pa.decimal128(19, 0)), scale))
    grouped = pa.table({"group": pa.array(groups, pa.int64()), "value": summable(array)}).group_by("group").aggregate(
        [("value", "sum")])
    order = np.argsort(np.asarray(grouped["group"].to_numpy(), dtype=np.int64))
    sums = grouped["value_sum"].combine_chunks().take(pa.array(order, pa.int64()))
    if len(sums) < count:  # a group without rows sums to zero
        present = np.zeros(count, dtype=bool)
        present[np.asarray(grouped["group"].to_numpy(), dtype=np.int64)] = True
        position = np.cumsum(present) - 1
        zero = pa.array([Decimal(0)], sums.type)
        sums = pa.concat_arrays([sums, zero]).take(pa.array(np.where(present, position, len(sums)), pa.int64()))
    return tight(sums)


def _integer_digits(array: pa.Array) -> int:
    """Integer digits the values of a decimal array need (from the data: Arrow's sums report 38 or 76)."""
    if len(array) == array.null_count:
        return 1
    extremes = pc.min_max(array)  # one pass over the 128-bit values, not two
    largest = max(abs(extremes["min"].as_py()), abs(extremes["max"].as_py()))
    return len(str(int(largest)))


def tight(values: Values) -> pa.Array:
    """A decimal column cast to the precision its values need, same scale: Arrow gives every sum the
    largest precision, which would make the next product or comparison overflow its type needlessly."""
    array = flat(values)
    return pc.cast(array, _decimal_type(_integer_digits(array) + array.type.scale, array.type.scale))


def compare(values: Values, op: str, bound: Exact) -> np.ndarray:
    """``values op bound`` for every row, exactly: the column and the bound are brought to one decimal
    type that holds both (decimal256 when needed). Null is false. ``bound`` must be a finite decimal
    (every limit is a decimal parameter times an amount)."""
    array = flat(values)
    limit = to_decimal(bound)
    bound_scale = max(0, -int(limit.as_tuple().exponent))
    scale = max(array.type.scale, bound_scale)
    integer_digits = max(_integer_digits(array), len(str(abs(int(limit)))))
    common = _decimal_type(integer_digits + scale, scale)
    result = _COMPARE[op](pc.cast(array, common), pa.scalar(limit, common))
    return np.asarray(pc.fill_null(result, False).to_numpy(zero_copy_only=False), dtype=bool)


def holds(left: Exact, op: str, right: Exact) -> bool:
    """A comparison of two exact scalars, on Fractions."""
    return bool(_OPERATOR[op](Fraction(left), Fraction(right)))


def to_decimal(value: Exact) -> Decimal:
    """An exact number as a Decimal with every digit (a Fraction must be a finite decimal)."""
    if isinstance(value, Decimal):
        return value
    fraction = Fraction(value)
    places = 0
    while (fraction * 10**places).denominator != 1:
        places += 1
        if places > _MAX_256:
            raise ValueError(f"{value} is not a finite decimal")
    return Decimal((fraction * 10**places).numerator).scaleb(-places)


def round_half_up(value: Exact, places: int = 2) -> Decimal:
    """``value`` rounded half-up (ties toward +∞) to ``places`` decimals, exactly: the subsidy's rule,
    used for every amount that is reported rounded to the fen."""
    units = math.floor(Fraction(value) * 10**places + Fraction(1, 2))
    return Decimal(units).scaleb(-places)


def amount_float(value: Exact) -> float:
    """An amount as a reported figure: rounded half-up to the fen, then the nearest float."""
    return float(round_half_up(value, 2))


def ratio(numerator: Exact, denominator: Exact) -> float | None:
    """The nearest float to an exact quotient; None when the denominator is not positive."""
    if Fraction(denominator) <= 0:
        return None
    return float(Fraction(numerator) / Fraction(denominator))


def floats(values: Values, fill: float = np.nan) -> np.ndarray:
    """A decimal column as the nearest floats, for display only: through the exact text, because
    Arrow's direct decimal→float64 cast is not correctly rounded."""
    array = flat(values)
    if pa.types.is_decimal(array.type):
        array = pc.cast(pc.cast(array, pa.string()), pa.float64())
    return np.asarray(pc.fill_null(array, fill).to_numpy(zero_copy_only=False), dtype=np.float64)


def as_decimal(values: Values, target: pa.DataType) -> pa.Array:
    """A numeric column as the decimal type ``target``: decimals are cast (checked), anything else goes
    through its shortest text, so a float column that came from filed text gets that text back."""
    array = flat(values)
    if pa.types.is_decimal(array.type):
        return array if array.type == target else pc.cast(array, target)
    return pc.cast(pc.cast(array, pa.string()), target)


def zero_filled(values: Values) -> pa.Array:
    """Nulls as zero, same type."""
    array = flat(values)
    if array.null_count == 0:
        return array
    return pc.fill_null(array, pa.scalar(Decimal(0), array.type))


def decimal_text(values: Values) -> pa.Array:
    """A decimal column as its shortest exact text (``0.120100000000000000`` → ``0.1201``, ``1.00`` →
    ``1``), the way a finding shows a value; column-wise."""
    text = pc.cast(flat(values), pa.string())
    text = pc.replace_substring_regex(text, r"(\.[0-9]*?)0+$", r"\1")
    return pc.replace_substring_regex(text, r"\.$", "")
