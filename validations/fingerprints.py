"""64-bit fingerprints of text values, computed on Arrow's string buffers with numpy.

Whether a column of a million ids repeats a value is asked of every filing (SCH-006). Answering it
with Arrow's dictionary encoding builds a hash table of a million strings (≈ 0.6 s) and a dictionary as
large as the column, only to learn, nearly always, that nothing repeats. A fingerprint per value reads
the text eight bytes at a time (three or four passes for an 18-character id) and a sort of the million
integers finds equal fingerprints: when none are equal no two values are, which settles the usual case
exactly; equal fingerprints (a repeat, or a collision of two different values) send the caller to the
exact dictionary codes. Before any of that, a column in strictly ascending or descending order (as
exports sorted by id are) is proven distinct by comparing each value with the next, at memory speed.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # an odd constant with well-spread bits (the golden ratio)
_LONGEST = 256  # longer values are left to the exact path: a fingerprint would take a pass per 8 bytes


def fingerprints(values: pa.ChunkedArray | pa.Array) -> np.ndarray | None:
    """One uint64 per value from its bytes and length (equal values, equal fingerprints); None when a
    chunk holds nulls, is not plain ``string`` or holds a value longer than 256 bytes."""
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    parts = []
    for chunk in chunks:
        part = _chunk_fingerprints(chunk)
        if part is None:
            return None
        parts.append(part)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint64)


def all_different(values: pa.ChunkedArray | pa.Array) -> bool:
    """True when no two values are equal and none is null, proven by distinct fingerprints; False
    means "not proven" (a repeat, a collision, a null or a value the fingerprint does not take)."""
    if values.null_count:
        return False
    if _strictly_monotonic(values):
        return True
    prints = fingerprints(values)
    if prints is None:
        return False
    prints.sort()
    return not bool((prints[1:] == prints[:-1]).any())


def _strictly_monotonic(values: pa.ChunkedArray | pa.Array) -> bool:
    """Every value less than the next, or every value greater: then no two are equal (strings compare
    as their bytes, a total order). One comparison kernel over the column, no hash and no sort."""
    if len(values) < 2:
        return True
    before, after = values.slice(0, len(values) - 1), values.slice(1)
    return bool(pc.all(pc.less(before, after)).as_py()) or bool(pc.all(pc.greater(before, after)).as_py())


def _chunk_fingerprints(chunk: pa.Array) -> np.ndarray | None:
    if chunk.type != pa.string() or chunk.null_count:
        return None
    n = len(chunk)
    if n == 0:
        return np.zeros(0, dtype=np.uint64)
    buffers = chunk.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int32, count=n + 1, offset=chunk.offset * 4).astype(np.int64)
    starts, lengths = offsets[:-1], np.diff(offsets)
    longest = int(lengths.max())
    if longest > _LONGEST:
        return None
    data = np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None else np.zeros(0, np.uint8)
    end = int(offsets[-1])
    padded = np.zeros(end + 8, dtype=np.uint8)  # every 8-byte read below stays inside
    padded[:end] = data[:end]
    words = _words(padded, end)  # the little-endian word at every byte position
    prints = lengths.astype(np.uint64) * _MULTIPLIER
    with np.errstate(over="ignore"):
        for step in range(0, longest, 8):
            word = words[np.minimum(starts + step, end)]  # past its end a value reads nothing (masked)
            kept = np.clip(lengths - step, 0, 8)  # bytes of this word that belong to the value
            word &= _LOW_BYTES[kept]
            mixed = (prints ^ word) * _MULTIPLIER
            mixed ^= mixed >> np.uint64(29)
            # a value that has ended keeps its fingerprint: it must not depend on its neighbours' lengths
            prints = np.where(kept > 0, mixed, prints)
    return prints


_LOW_BYTES = np.array([(1 << (8 * k)) - 1 for k in range(9)], dtype=np.uint64)  # 0, 0xFF, ..., all ones


def _words(padded: np.ndarray, end: int) -> np.ndarray:
    """A read-only view of ``padded`` as the uint64 starting at each byte position 0..end."""
    return np.ndarray(shape=(end + 1,), dtype="<u8", buffer=padded, offset=0, strides=(1,))
