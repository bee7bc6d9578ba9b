"""Comparing and updating Arrow columns at gathered positions, with the masks as numpy booleans.

An incremental feed compares every account of a filing with the same account in the guarantor's state
and replaces the few rows that changed. The comparisons are Arrow's gather and ``not_equal``; what
decides on their results (which segment changed, which report-date code) is numpy, where a boolean
operation costs microseconds. Replacing rows writes fixed-width columns (dates, whole numbers, 128-bit
decimals) with numpy, and a column whose replaced values equal the ones they replace is kept as it is.

Every function treats nulls as Arrow's ``not_equal`` plus a validity check does: two nulls are equal,
a null and a value are not.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_FIXED = {pa.date32(): np.int32, pa.int32(): np.int32, pa.int64(): np.int64, pa.date64(): np.int64}


def flat(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One contiguous array (a no-op for an array or a single chunk)."""
    if isinstance(values, pa.ChunkedArray):
        return values.chunk(0) if values.num_chunks == 1 else values.combine_chunks()
    return values


def _bitmap(buffer: pa.Buffer | None, offset: int, n: int, fill: bool) -> np.ndarray:
    if buffer is None:
        return np.full(n, fill)
    return np.unpackbits(np.frombuffer(buffer, dtype=np.uint8), bitorder="little")[
        offset : offset + n
    ].astype(bool)


def valid(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Which values are not null, as numpy booleans."""
    a = flat(values)
    if a.null_count == 0:
        return np.ones(len(a), dtype=bool)
    if a.null_count == len(a):
        return np.zeros(len(a), dtype=bool)
    return _bitmap(a.buffers()[0], a.offset, len(a), True)


def raw_bits(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A boolean array's value bits as numpy booleans, whatever a null slot holds (callers mask those)."""
    a = flat(values)
    return _bitmap(a.buffers()[1], a.offset, len(a), False)


def true(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """True where a boolean array is true (null counts as false)."""
    return raw_bits(values) & valid(values)


def fixed(a: pa.Array) -> np.ndarray | None:
    """The values of a fixed-width array as numpy (one row per value; a 128-bit decimal as two int64
    words), or ``None`` for another type. Null slots hold whatever the buffer holds."""
    dtype = _FIXED.get(a.type)
    if dtype is not None:
        buffer = a.buffers()[1]
        if buffer is None:
            return np.zeros(len(a), dtype=dtype)
        return np.frombuffer(buffer, dtype=dtype)[a.offset : a.offset + len(a)]
    if pa.types.is_decimal128(a.type):
        buffer = a.buffers()[1]
        if buffer is None:
            return np.zeros((len(a), 2), dtype=np.int64)
        return np.frombuffer(buffer, dtype=np.int64)[2 * a.offset : 2 * (a.offset + len(a))].reshape(-1, 2)
    return None


def unequal(current: pa.Array | pa.ChunkedArray, before: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Row by row, whether ``current`` differs from ``before`` (a null equals a null only)."""
    cur, before = flat(current), flat(before)
    if before.type != cur.type:
        before = before.cast(cur.type)
    if cur.equals(before):  # most columns of a month's filing: compared bytewise, a third of not_equal's cost
        return np.zeros(len(cur), dtype=bool)
    differs = pc.not_equal(cur, before)
    if cur.null_count == 0 and before.null_count == 0:
        return raw_bits(differs)
    cur_valid, before_valid = valid(cur), valid(before)
    return (cur_valid != before_valid) | (cur_valid & before_valid & raw_bits(differs))


class Positions:
    """For each row of a current column, its position in a previous column of ``size`` rows, where it
    has one (``present``; by default every row does). Gathered the cheapest way Arrow offers: where the
    rows with a position come first and their positions strictly increase (a filing in its state's
    order, new accounts last) the previous values are filtered, which costs half a ``take`` for strings
    (measured), and compared with the current rows' leading slice; otherwise taken."""

    def __init__(self, at: np.ndarray, size: int, present: np.ndarray | None = None) -> None:
        at = np.asarray(at, dtype=np.int64)
        self.rows = len(at)
        present = np.ones(self.rows, dtype=bool) if present is None else present
        self.absent = ~present
        self.leading = int(present.sum())
        self._mask: pa.Array | None = None
        self._index: pa.Array | None = None
        head = at[: self.leading]
        if self.leading > 1 and present[: self.leading].all() and bool((np.diff(head) > 0).all()):
            mask = np.zeros(size, dtype=bool)
            mask[head] = True
            self._mask = pa.array(mask)
        else:
            self._index = pa.array(np.where(present, at, 0), pa.int64())

    def unequal(self, current: pa.Array | pa.ChunkedArray, previous: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """Row by row, whether ``current`` differs from the previous value at its position (a row
        without a position counts as differing)."""
        if len(current) != self.rows:
            raise ValueError("one position per current row")
        if self._mask is None:
            return unequal(current, pc.take(flat(previous), self._index)) | self.absent
        out = np.ones(self.rows, dtype=bool)
        out[: self.leading] = unequal(flat(current).slice(0, self.leading), pc.filter(flat(previous), self._mask))
        return out


def unequal_at(
    current: pa.Array | pa.ChunkedArray, previous: pa.Array | pa.ChunkedArray, at: np.ndarray
) -> np.ndarray:
    """For each row ``i`` of ``current``, whether it differs from ``previous[at[i]]`` (a null equals a
    null only). ``at`` holds valid positions into ``previous``.

    Arrow's gather and ``not_equal`` do the work (measured: gathering and comparing 10,000 strings costs
    about 0.1 ms, five times less than comparing the gathered bytes with numpy); only the result is
    read as numpy booleans."""
    if len(current) != len(at):
        raise ValueError("one position per current row")
    if len(previous) == 0:
        return np.ones(len(current), dtype=bool)
    return Positions(at, len(previous)).unequal(current, previous)


def replace_at(
    previous: pa.Array | pa.ChunkedArray,
    at: np.ndarray,
    values: pa.Array | pa.ChunkedArray,
    differs: bool | None = None,
) -> pa.Array:
    """``previous`` with ``values[j]`` at position ``at[j]`` (``at`` distinct), and ``previous`` itself
    when every replaced value equals the one it replaces. ``differs`` says whether some value differs
    where the caller knows it (``None``: compared here). Fixed-width columns are written with numpy."""
    prev, new = flat(previous), flat(values)
    if new.type != prev.type:
        new = new.cast(prev.type)
    if differs is None:
        differs = len(at) > 0 and bool(unequal_at(new, prev, at).any())
    if len(at) == 0 or not differs:
        return prev
    data = fixed(prev)
    if data is not None and fixed(new) is not None:
        out = data.copy()
        out[at] = fixed(new)
        is_valid = valid(prev)
        is_valid[at] = valid(new)
        bitmap = None if is_valid.all() else pa.py_buffer(np.packbits(is_valid, bitorder="little"))
        return pa.Array.from_buffers(
            prev.type, len(prev), [bitmap, pa.py_buffer(out)], null_count=int(len(is_valid) - is_valid.sum())
        )
    index = np.arange(len(prev), dtype=np.int64)
    index[at] = np.arange(len(prev), len(prev) + len(new), dtype=np.int64)
    return pc.take(pa.concat_arrays([prev, new]), pa.array(index))
