"""Tables from byte to byte applied with ``bytes.translate``: one C pass over a ``uint8`` array, where
numpy's gather (``table[array]``) first widens every byte to a 64-bit index and is four to five times
slower. Used for the characters of party ids (SCH-003) and for masks over one-byte dictionary codes."""

from __future__ import annotations

import numpy as np


def translate(values: np.ndarray, table: bytes) -> np.ndarray:
    """``table[values]`` for a ``uint8`` array and a 256-byte table: same shape, ``uint8``, read-only."""
    if len(table) != 256:
        raise ValueError("a translation table has 256 entries")
    flat = np.ascontiguousarray(values, dtype=np.uint8).tobytes().translate(table)
    return np.frombuffer(flat, dtype=np.uint8).reshape(values.shape)
