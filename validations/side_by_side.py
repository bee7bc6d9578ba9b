"""Column-wise work of one filing on as many threads as the machine has cores, results in order.

Arrow's kernels and numpy's passes over buffers release the GIL, so the columns of a million-row file
are typed side by side (phase 1), and a phase's independent checks run side by side (phase 2), with
each result where the sequential loop would have put it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

_T = TypeVar("_T")
_I = TypeVar("_I")

PARALLEL_ROWS = 1 << 16  # below this, threads cost more than they save


def in_order(work: Callable[[_I], _T], items: Sequence[_I], rows: int, name: str = "side") -> list[_T]:
    """``work`` of every item, in the items' order; on threads when the filing has ``rows`` ≥
    ``PARALLEL_ROWS`` and the machine more than one core."""
    workers = min(len(items), os.cpu_count() or 1)
    if rows < PARALLEL_ROWS or workers < 2:
        return [work(item) for item in items]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name) as pool:
        return list(pool.map(work, items))
