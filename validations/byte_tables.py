"""Tables from byte to byte, applied by Arrow's ``take`` kernel: one pass over a ``uint8`` array that
releases the GIL, so that two checks looking bytes up on two threads run side by side. ``bytes.translate``
held the GIL for the whole pass (half of the time phases 2 and 3 held it) and numpy's gather
(``table[array]``) widens every byte to a 64-bit index first; Arrow's is two to four times faster than
either. Used for the characters of party ids (SCH-003) and for masks over dictionary codes."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def translate(values: np.ndarray, table: bytes) -> np.ndarray:
    """``table[values]`` for a ``uint8`` array and a 256-byte table: same shape, ``uint8``, read-only."""
    if len(table) != 256:
        raise ValueError("a translation table has 256 entries")
    return look_up(values, _table_array(table))


def look_up(indices: np.ndarray, table: pa.Array) -> np.ndarray:
    """``table[indices]`` for an array of unsigned integer indices, each below ``len(table)``: same
    shape, the table's type, read-only."""
    flat = np.ascontiguousarray(indices).reshape(-1)
    if not len(flat):
        return np.asarray(table.slice(0, 0)).reshape(indices.shape)
    # a byte cannot reach past a 256-entry table: Arrow's bounds check (one more pass) only otherwise
    checked = not (flat.dtype == np.uint8 and len(table) >= 256)
    taken = pc.take(table, pa.array(flat), boundscheck=checked)
    return np.asarray(taken).reshape(indices.shape)


@lru_cache(maxsize=64)
def _table_array(table: bytes) -> pa.Array:
    return pa.array(np.frombuffer(table, dtype=np.uint8))
