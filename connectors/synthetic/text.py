"""Column-wise formatting of numpy values as the text a guarantor files.

Every generated table is all-string, exactly as intake hands files to the rule engine, so that the
generator controls the written form (two-decimal amounts, ``YYYY-MM-DD`` dates) and an injected error
is a change of text, not of type.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

EPOCH = np.datetime64("1970-01-01", "D")


def choice(options: Sequence[str], index: np.ndarray) -> pa.Array:
    """``options[index]`` as a string array: decoding a dictionary array is Arrow's fastest gather."""
    indices = pa.array(np.asarray(index, dtype=np.int32))
    return pa.DictionaryArray.from_arrays(indices, pa.array(list(options), pa.string())).cast(pa.string())


def join(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation of string arrays and scalars."""
    return pc.binary_join_element_wise(*parts, "")


def integers(values: np.ndarray, width: int = 0) -> pa.Array:
    """Non-negative integers as text; with ``width``, zero-padded to exactly that many digits."""
    values = np.asarray(values, dtype=np.int64)
    return compose((values, width)) if width else pa.array(values).cast(pa.string())


def compose(*parts: str | tuple[np.ndarray, int]) -> pa.Array:
    """Fixed-width text from constants and zero-padded integers, e.g. ``compose("DB", (seq, 7))``.

    Built as one byte matrix, so an id column costs a few numpy passes instead of Arrow string joins.
    """
    widths = [len(p.encode()) if isinstance(p, str) else p[1] for p in parts]
    n = next((len(p[0]) for p in parts if not isinstance(p, str)), 1)
    matrix = np.empty((n, sum(widths)), dtype=np.uint8)
    column = 0
    for part, width in zip(parts, widths, strict=True):
        if isinstance(part, str):
            matrix[:, column : column + width] = np.frombuffer(part.encode(), dtype=np.uint8)
        else:
            rest = np.asarray(part[0], dtype=np.int64).copy()
            for position in range(column + width - 1, column - 1, -1):
                matrix[:, position] = rest % 10 + ord("0")
                rest //= 10
        column += width
    return fixed_width(matrix)


def cents(values: np.ndarray) -> pa.Array:
    """int64 fen as yuan with exactly two decimals: ``25000000`` → ``"250000.00"``."""
    return fixed_point(values, 2)


def fixed_point(units: np.ndarray, scale: int) -> pa.Array:
    """int64 multiples of 10**-scale as decimals: ``fixed_point([125], 4)`` → ``["0.0125"]``.

    The integers are reinterpreted as Decimal128 (low word, sign-extended high word) and cast to text
    in one Arrow kernel, which is both exact and the cheapest way to print a million amounts.
    """
    units = np.asarray(units, dtype=np.int64)
    words = np.empty((len(units), 2), dtype=np.int64)
    words[:, 0], words[:, 1] = units, units >> 63
    decimal = pa.Array.from_buffers(pa.decimal128(38, scale), len(units), [None, pa.py_buffer(words)])
    return decimal.cast(pa.string())


def dates(days: np.ndarray) -> pa.Array:
    """Days since 1970-01-01 (or datetime64[D]) as ``YYYY-MM-DD``."""
    days = np.asarray(days)
    if np.issubdtype(days.dtype, np.datetime64):
        days = (days.astype("datetime64[D]") - EPOCH).astype(np.int64)
    return pa.array(days.astype(np.int32), pa.date32()).cast(pa.string())


def where(mask: np.ndarray, values: pa.Array, other: pa.Array | str = "") -> pa.Array:
    """``values`` where ``mask`` holds, else ``other`` (the empty string by default)."""
    return pc.if_else(pa.array(np.asarray(mask, dtype=bool)), values, other)


def fixed_width(matrix: np.ndarray) -> pa.Array:
    """An (n, w) uint8 matrix of UTF-8 bytes as n strings of w bytes each, wrapping its buffer without a copy."""
    matrix = np.ascontiguousarray(matrix, dtype=np.uint8)
    n, width = matrix.shape
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(matrix)])


def to_numpy_float(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A numeric text column as float64 (empty → NaN), for the generator's own consistency sums."""
    text = pc.if_else(pc.equal(column, ""), pa.scalar(None, pa.string()), column)
    return np.asarray(pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)


def to_numpy_cents(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A two-decimal amount column as int64 fen (exact, no float rounding drift)."""
    return np.rint(to_numpy_float(column) * 100).astype(np.int64)


def to_numpy_days(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A ``YYYY-MM-DD`` column as int64 days since 1970-01-01 (empty → a large negative sentinel)."""
    text = pc.if_else(pc.equal(column, ""), pa.scalar(None, pa.string()), column)
    days = pc.cast(pc.cast(pc.strptime(text, format="%Y-%m-%d", unit="s"), pa.date32()), pa.int32())
    return np.asarray(pc.fill_null(days, -(10**6)).to_numpy(zero_copy_only=False), dtype=np.int64)

