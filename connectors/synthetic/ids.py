"""Valid, unique USCC (GB 32100-2015) and RIC (GB 11643-1999) ids, built column-wise.

The check characters reuse the weights and alphabets of ``validations.checksums`` so that the generator
and the SCH-003 check cannot drift apart. Uniqueness comes from a scrambled bijection of the row
index (``i * m + offset mod base``, with ``m`` coprime to ``base``), not from rejection sampling, so a
million ids cost a handful of numpy operations and never collide.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa

from connectors.synthetic.text import fixed_width
from validations.checksums import RIC_CHECK, RIC_WEIGHTS, USCC_ALPHABET, USCC_WEIGHTS

_USCC_BYTES = np.frombuffer(USCC_ALPHABET.encode("ascii"), dtype=np.uint8)
_RIC_CHECK_BYTES = np.frombuffer(RIC_CHECK.encode("ascii"), dtype=np.uint8)
_DIGIT_ZERO = ord("0")
_USCC_ORG_BASE = 31**9  # positions 9–17: the organisation code, any of the 31 characters
_BIRTH_FIRST = np.datetime64("1955-01-01", "D")
_BIRTH_DAYS = int((np.datetime64("2004-12-31", "D") - _BIRTH_FIRST).astype(np.int64)) + 1
_RIC_SEQ = 1000  # positions 15–17: the sequence number


def scrambled(n: int, base: int, rng: np.random.Generator) -> np.ndarray:
    """n distinct pseudo-random integers in [0, base): a bijection of 0..n-1, so no collisions."""
    if n > base:
        raise ValueError(f"cannot draw {n} distinct values below {base}")
    # int64 stays exact while (n - 1) * multiplier < 2**62, which bounds the multiplier
    high = min(base // 2, 2**62 // max(n, 1))
    multiplier = int(rng.integers(min(base // 1000 + 1, high), high)) | 1
    while math.gcd(multiplier, base) != 1:
        multiplier += 2
    offset = int(rng.integers(0, base))
    return (np.arange(n, dtype=np.int64) * multiplier + offset) % base


def digits(values: np.ndarray, base: int, width: int) -> list[np.ndarray]:
    """The base-``base`` digits of ``values``, most significant first, one (n,) array per position.

    Position-major lists rather than an (n, width) matrix: each step then touches contiguous memory.
    """
    rest = np.asarray(values, dtype=np.int64).copy()
    out: list[np.ndarray] = []
    for _ in range(width):
        out.append(rest % base)
        rest //= base
    return out[::-1]


def uscc_check_values(first17: list[np.ndarray]) -> np.ndarray:
    """Alphabet index of the 18th character, from the 17 positions' alphabet indices."""
    return (31 - _weighted_sum(first17, USCC_WEIGHTS) % 31) % 31


def ric_check_values(first17: list[np.ndarray]) -> np.ndarray:
    """Index into ``RIC_CHECK`` of the 18th character, from the 17 positions' digits."""
    return _weighted_sum(first17, RIC_WEIGHTS) % 11


def _weighted_sum(positions: list[np.ndarray], weights: np.ndarray) -> np.ndarray:
    total = np.zeros(len(positions[0]), dtype=np.int64)
    for values, weight in zip(positions, weights, strict=True):
        total += values * int(weight)
    return total


def _constant_or_digits(values: np.ndarray | int, n: int, width: int) -> list[np.ndarray]:
    return [np.broadcast_to(d, (n,)) for d in digits(np.atleast_1d(values), 10, width)]


def _matrix(positions: list[np.ndarray], lookup: np.ndarray | None = None) -> np.ndarray:
    """(n, 18) ASCII matrix from 18 position arrays, each mapped through ``lookup`` (or to digits)."""
    n = len(positions[0])
    matrix = np.empty((n, len(positions)), dtype=np.uint8)
    for j, values in enumerate(positions):
        matrix[:, j] = lookup[values] if lookup is not None else values + _DIGIT_ZERO
    return matrix


def uscc(kind_prefix: np.ndarray | int, districts: np.ndarray | int, n: int, rng: np.random.Generator) -> pa.Array:
    """n unique USCCs: registration authority + entity type (e.g. 91), district, organisation code, check.

    ``kind_prefix`` holds two-digit prefixes (91 enterprise, 92 individual business, 93 farmers'
    cooperative) and ``districts`` six-digit district codes, each an (n,) integer array or one integer.
    """
    positions = _constant_or_digits(kind_prefix, n, 2) + _constant_or_digits(districts, n, 6)
    positions += digits(scrambled(n, _USCC_ORG_BASE, rng), 31, 9)
    positions.append(uscc_check_values(positions))
    return fixed_width(_matrix(positions, _USCC_BYTES))


def ric(districts: np.ndarray | int, n: int, rng: np.random.Generator) -> pa.Array:
    """n unique RICs of adults born 1955–2004: district, birth date, sequence number, check character."""
    code = scrambled(n, _BIRTH_DAYS * _RIC_SEQ, rng)
    birth = _BIRTH_FIRST + (code // _RIC_SEQ).astype("timedelta64[D]")
    year = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    month = birth.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (birth - birth.astype("datetime64[M]")).astype(np.int64) + 1
    positions = _constant_or_digits(districts, n, 6) + digits(year * 10000 + month * 100 + day, 10, 8)
    positions += digits(code % _RIC_SEQ, 10, 3)
    check = _RIC_CHECK_BYTES[ric_check_values(positions)]
    matrix = _matrix([*positions, np.zeros(n, dtype=np.int64)])
    matrix[:, 17] = check
    return fixed_width(matrix)
