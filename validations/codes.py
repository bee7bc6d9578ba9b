"""Dictionary codes of a table's text columns, computed once per filing and shared by the phases.

Hashing a million party ids or code values is the costly part of grouping, uniqueness and code-list
tests, so each column is dictionary-encoded at most once: phase 2 (SCH-002, SCH-006), phase 3 (BIZ-011)
and phase 4 (the masks of code columns, the per-party sums, the households) read the same codes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from validations.byte_tables import look_up

Encoded = tuple[np.ndarray, pa.Array]  # codes per row, dictionary


class Codes:
    """Per column: codes 0..k-1 in order of first appearance, and k for a null; the dictionary of the k
    distinct values. A mask over the rows is then a lookup in a table of k + 1 booleans.

    The codes are kept in the smallest unsigned type that holds k (one byte a row for a code list, four
    for a million party ids, where int64 took eight for every column for the whole check): callers that
    do arithmetic on codes widen them first."""

    def __init__(self, table: pa.Table) -> None:
        self._table = table
        self._encoded: dict[str, Encoded] = {}
        self._pending: dict[str, Future[Encoded]] = {}
        self._lock = threading.Lock()  # phases check rules on several threads: each column is encoded once

    def encoded(self, column: str) -> Encoded:
        """(codes per row, dictionary); a null row's code is ``len(dictionary)``. A column another thread
        is encoding is waited for, not encoded again."""
        done = self._encoded.get(column)
        if done is not None:
            return done
        with self._lock:
            pending = self._pending.get(column)
            mine = pending is None and column not in self._encoded
            if mine:
                pending = self._pending[column] = Future()
        if pending is None:  # finished between the first look and the lock
            return self._encoded[column]
        if mine:
            try:
                pending.set_result(self._encode(column))
            except BaseException as exc:
                pending.set_exception(exc)
        try:
            result = pending.result()
        finally:
            with self._lock:
                if pending.done() and not pending.exception():
                    self._encoded[column] = pending.result()
                if self._pending.get(column) is pending:
                    del self._pending[column]
        return result

    def seed(self, column: str, encoded: Encoded) -> None:
        """The codes of ``column`` computed elsewhere by :func:`encode` (phase 1 encodes the code-list
        columns on its threads, beside their parse)."""
        with self._lock:
            self._encoded.setdefault(column, encoded)

    def _encode(self, column: str) -> Encoded:
        return encode(self._table[column])

    def indices(self, column: str) -> np.ndarray:
        return self.encoded(column)[0]

    def is_in(self, column: str, codes: Iterable[str]) -> np.ndarray:
        """Rows whose value is one of ``codes`` (a null row never is)."""
        indices, dictionary = self.encoded(column)
        wanted = pa.array(sorted(set(codes)), dictionary.type)
        lookup = np.zeros(len(dictionary) + 1, dtype=bool)  # the last entry: null
        lookup[:-1] = np.asarray(pc.is_in(dictionary, value_set=wanted).to_numpy(zero_copy_only=False), dtype=bool)
        return _looked_up(lookup, indices)

    def eq(self, column: str, code: str) -> np.ndarray:
        return self.is_in(column, (code,))

    def is_null(self, column: str) -> np.ndarray:
        indices, dictionary = self.encoded(column)
        return indices == len(dictionary)

    def where(self, column: str, test: Callable[[pa.Array], pa.Array], null: bool = False) -> np.ndarray:
        """Rows whose value passes ``test``, a column-wise predicate run on the dictionary (a few
        distinct values instead of every row); a null row is ``null``."""
        indices, dictionary = self.encoded(column)
        lookup = np.full(len(dictionary) + 1, null, dtype=bool)
        lookup[:-1] = np.asarray(pc.fill_null(test(dictionary), False).to_numpy(zero_copy_only=False), dtype=bool)
        return _looked_up(lookup, indices)

    def distinct(self, column: str) -> int:
        """How many distinct non-null values the column holds."""
        return len(self.encoded(column)[1])


def encode(values: pa.ChunkedArray | pa.Array) -> Encoded:
    """(codes per row in the smallest unsigned type, dictionary) of one column; null rows get
    ``len(dictionary)``."""
    # a chunked column is encoded chunk by chunk against one dictionary (Arrow's hash kernel keeps its
    # table across chunks): the text is never copied into one array first. Values of one width (party
    # ids: 18 bytes) are hashed as fixed-size keys, a third faster, over the same bytes
    width = _common_width(values)
    encoded = pc.dictionary_encode(values if width is None else _as_fixed_size(values, width))
    chunks = encoded.chunks if isinstance(encoded, pa.ChunkedArray) else [encoded]
    if not chunks:
        return np.zeros(0, dtype=np.uint8), pa.array([], values.type)
    dictionary = chunks[0].dictionary if width is None else _as_strings(chunks[0].dictionary, width, values.type)
    return _codes_of(chunks, dictionary, len(values)), dictionary


def _codes_of(chunks: list[pa.DictionaryArray], dictionary: pa.Array, rows: int) -> np.ndarray:
    """The chunks' indices in one array of the smallest unsigned type, null as ``len(dictionary)``."""
    k = len(dictionary)
    dtype = np.uint8 if k < 1 << 8 else np.uint16 if k < 1 << 16 else np.uint32
    codes = np.empty(rows, dtype=dtype)
    at = 0
    first = chunks[0].dictionary if chunks else None
    for chunk in chunks:
        if not _same_array(chunk.dictionary, first):
            raise AssertionError("the chunks of one column were encoded against different dictionaries")
        indices = chunk.indices if chunk.indices.null_count == 0 else pc.fill_null(chunk.indices, k)
        codes[at: at + len(indices)] = indices.to_numpy(zero_copy_only=False)
        at += len(indices)
    return codes


def _common_width(values: pa.ChunkedArray | pa.Array) -> int | None:
    """The byte length every value has, when a ``string`` column without nulls has one (else None)."""
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    if values.type != pa.string() or values.null_count or not len(values):
        return None
    width = None
    for chunk in chunks:
        if not len(chunk):
            continue
        offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int32, count=len(chunk) + 1, offset=4 * chunk.offset)
        lengths = np.diff(offsets)
        longest = int(lengths.max())
        if longest == 0 or int(lengths.min()) != longest or width not in (None, longest):
            return None
        width = longest
    return width


def _as_fixed_size(values: pa.ChunkedArray | pa.Array, width: int) -> pa.ChunkedArray:
    """The same bytes as ``binary(width)`` values (no copy): each chunk's data from its first offset."""
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    fixed = []
    for chunk in chunks:
        start = int(np.frombuffer(chunk.buffers()[1], dtype=np.int32, count=1, offset=4 * chunk.offset)[0])
        data = chunk.buffers()[2].slice(start, width * len(chunk)) if len(chunk) else pa.py_buffer(b"")
        fixed.append(pa.Array.from_buffers(pa.binary(width), len(chunk), [None, data]))
    return pa.chunked_array(fixed, pa.binary(width))


def _as_strings(dictionary: pa.Array, width: int, kind: pa.DataType) -> pa.Array:
    """A ``binary(width)`` dictionary back as strings (each entry is one of the column's values)."""
    k = len(dictionary)
    offsets = pa.py_buffer((np.arange(k + 1, dtype=np.int32) * width).tobytes())
    data = dictionary.buffers()[1].slice(dictionary.offset * width, k * width)
    return pa.Array.from_buffers(kind, k, [None, offsets, data])


def _looked_up(lookup: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """``lookup[indices]`` for a boolean table, as a mask the caller may change: Arrow's ``take`` over
    the table as bytes (``validations.byte_tables``), which leaves the GIL to the other checks."""
    return look_up(indices, pa.array(lookup.view(np.uint8))).view(np.bool_).copy()


def _same_array(a: pa.Array, b: pa.Array) -> bool:
    """The same values: the same buffers (as the chunks of one encoding share them), else compared."""
    same_buffers = len(a) == len(b) and [x.address if x is not None else None for x in a.buffers()] \
        == [x.address if x is not None else None for x in b.buffers()]
    return same_buffers or a.equals(b)
