"""Check characters of USCC (GB 32100-2015) and RIC (GB 11643-1999), scalar and column-wise (SCH-003).

The column-wise versions view fixed-width 18-character ASCII ids as an (n, 18) byte matrix, so a
million ids are checked with a handful of numpy operations.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from validations.byte_tables import translate

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, S, V, Z
USCC_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28], dtype=np.int64)
RIC_WEIGHTS = np.array([pow(2, 17 - i, 11) for i in range(17)], dtype=np.int64)  # 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2
RIC_CHECK = "10X98765432"
_USCC_W32, _RIC_W32 = USCC_WEIGHTS.astype(np.int32), RIC_WEIGHTS.astype(np.int32)

_NONE = 255  # what a byte outside the alphabet translates to


def _table(values: dict[str, int]) -> bytes:
    """A ``bytes.translate`` table: each character's value, ``_NONE`` for every other byte."""
    table = bytearray([_NONE]) * 256
    for char, value in values.items():
        table[ord(char)] = value
    return bytes(table)


_USCC_TABLE = _table({c: i for i, c in enumerate(USCC_ALPHABET)} | {c.lower(): i for i, c in enumerate(USCC_ALPHABET)})
_DIGIT_TABLE = _table({str(i): i for i in range(10)})
_RIC_CHECK_TABLE = _table({c: i for i, c in enumerate(RIC_CHECK)} | {"x": 2})


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * int(w) for c, w in zip(first17.upper(), USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def ric_check_char(first17: str) -> str:
    total = sum(int(c) * int(w) for c, w in zip(first17, RIC_WEIGHTS, strict=True))
    return RIC_CHECK[total % 11]


def _matrix(ids: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(mask of ids that are 18 bytes long, their (k, 18) uint8 matrix), without copying strings."""
    ids = pc.fill_null(ids, "")
    fits = pc.fill_null(pc.equal(pc.binary_length(ids), 18), False)
    picked = pc.filter(ids, fits)
    n = len(picked)
    if n == 0:
        return np.asarray(fits.to_numpy(zero_copy_only=False), dtype=bool), np.empty((0, 18), np.uint8)
    offsets = np.frombuffer(picked.buffers()[1], dtype=np.int32)[picked.offset : picked.offset + n + 1]
    data = np.frombuffer(picked.buffers()[2], dtype=np.uint8)
    matrix = data[offsets[0] : offsets[-1]].reshape(n, 18)
    return np.asarray(fits.to_numpy(zero_copy_only=False), dtype=bool), matrix


def party_ids_valid(ids: pa.Array | pa.ChunkedArray, is_uscc: np.ndarray, is_ric: np.ndarray,
                    latest_birth: np.datetime64 | None = None) -> np.ndarray:
    """Boolean mask over ``ids``: each USCC row checked as a USCC, each RIC row as a RIC (SCH-003); rows of
    neither type are True (their type is SCH-002's business). Checked a window of rows at a time, so
    that the byte matrix and its integer copies stay a few megabytes whatever the filing's size."""
    ok = np.ones(len(ids), dtype=bool)
    for start in range(0, len(ids), _WINDOW):
        stop = min(start + _WINDOW, len(ids))
        ok[start:stop] = _party_ids_window(_flat(ids.slice(start, stop - start)), is_uscc[start:stop],
                                           is_ric[start:stop], latest_birth)
    return ok


_WINDOW = 1 << 16  # rows: an (n, 18) matrix and its int16/int32 copies, ≈ 8 MB


def _party_ids_window(ids: pa.Array, is_uscc: np.ndarray, is_ric: np.ndarray,
                      latest_birth: np.datetime64 | None) -> np.ndarray:
    fits, m = _matrix(ids)
    ok = np.ones(len(ids), dtype=bool)
    ok[(is_uscc | is_ric) & ~fits] = False
    if len(m):
        rows_uscc, rows_ric = is_uscc[fits], is_ric[fits]
        if 2 * int(np.count_nonzero(rows_uscc)) > len(m):
            # mostly USCC: every row checked as one (no copy of the matrix's rows), the others let pass
            checked = _uscc_matrix_valid(m) | ~rows_uscc
        else:
            checked = np.ones(len(m), dtype=bool)
            checked[rows_uscc] = _uscc_matrix_valid(m[rows_uscc])
        if rows_ric.any():
            checked[rows_ric] = _ric_matrix_valid(m[rows_ric], latest_birth)
        if len(m) == len(ids):
            return ok & checked
        ok[fits] = checked
    return ok


def _rows_without(values: np.ndarray) -> np.ndarray:
    """Rows of the translated matrix in which no byte was outside the alphabet (found where they are:
    they are rare, and a reduction along each short row is slow)."""
    ok = np.ones(len(values), dtype=bool)
    ok[np.flatnonzero(values.reshape(-1) == _NONE) // values.shape[1]] = False
    return ok


def _weighted(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    return np.einsum("ij,j->i", values, weights, dtype=np.int32)


def _uscc_matrix_valid(m: np.ndarray) -> np.ndarray:
    values = translate(m, _USCC_TABLE)
    expected = (31 - _weighted(values[:, :17], _USCC_W32) % 31) % 31
    return _rows_without(values) & (values[:, 17] == expected)


def _ric_matrix_valid(m: np.ndarray, latest_birth: np.datetime64 | None) -> np.ndarray:
    digits = translate(m[:, :17], _DIGIT_TABLE)
    expected = _weighted(digits, _RIC_W32) % 11
    check_ok = translate(m[:, 17], _RIC_CHECK_TABLE) == expected
    return _rows_without(digits) & check_ok & _birth_dates_valid(digits, latest_birth)


def uscc_valid(ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Boolean mask: the id is 18 characters of the USCC alphabet with the right 18th character."""
    ids = _flat(ids)
    fits, m = _matrix(ids)
    ok = np.zeros(len(ids), dtype=bool)
    if len(m):
        ok[fits] = _uscc_matrix_valid(m)
    return ok


def ric_valid(ids: pa.Array | pa.ChunkedArray, latest_birth: np.datetime64 | None = None) -> np.ndarray:
    """Boolean mask: 17 digits, the right check character, a real birth date (from 1900) not after
    ``latest_birth``."""
    ids = _flat(ids)
    fits, m = _matrix(ids)
    ok = np.zeros(len(ids), dtype=bool)
    if len(m):
        ok[fits] = _ric_matrix_valid(m, latest_birth)
    return ok


_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def _birth_dates_valid(digits: np.ndarray, latest: np.datetime64 | None) -> np.ndarray:
    """Characters 7–14 as YYYYMMDD: a real calendar date, year ≥ 1900, not after ``latest``."""
    d = np.where(digits == _NONE, 0, digits).astype(np.int32)
    year = d[:, 6] * 1000 + d[:, 7] * 100 + d[:, 8] * 10 + d[:, 9]
    month = d[:, 10] * 10 + d[:, 11]
    day = d[:, 12] * 10 + d[:, 13]
    month_ok = (month >= 1) & (month <= 12)
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    days = _DAYS_IN_MONTH[np.where(month_ok, month, 0)] + ((month == 2) & leap)
    ok = (year >= 1900) & month_ok & (day >= 1) & (day <= days)
    if latest is not None:
        latest_day = latest.astype("datetime64[D]").item()
        ok &= year * 10000 + month * 100 + day <= latest_day.year * 10000 + latest_day.month * 100 + latest_day.day
    return ok


def _flat(ids: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(ids, pa.ChunkedArray):
        return ids.combine_chunks() if ids.num_chunks else pa.array([], ids.type)
    return ids
