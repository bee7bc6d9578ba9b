"""Which allocator Arrow's buffers come from in Danbao's processes.

pyarrow's wheels allocate from mimalloc by default. A check allocates and frees hundreds of MB in
blocks of every size on two threads, and mimalloc keeps what was freed mapped for reuse: on a
million-row ledger its process peaked at ≈ 1.2 GB while Arrow itself held at most ≈ 0.7 GB, and
the kernel's time went to faulting fresh pages in (4.1–4.7 s of system time). jemalloc, which the same
wheels carry, hands freed pages back after a short decay: the same check peaked at ≈ 0.9 GB, with
2.3–2.9 s of system time and a shorter wall time (README, "Under 1 GB"). Large file buffers keep
coming from the system allocator (``connectors.arrow_sources``).
"""

from __future__ import annotations

import os

import pyarrow as pa

#: how long jemalloc keeps freed pages before handing them back: long enough that a phase reuses
#: what the previous one freed, short enough that a check does not hold what it no longer needs
DECAY_MS = 100


def use_returning_pool(decay_ms: int = DECAY_MS) -> str:
    """Make jemalloc Arrow's default pool for this process, unless the operator chose one
    (``ARROW_DEFAULT_MEMORY_POOL``) or this build of pyarrow lacks it; the backend in use."""
    if not os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        try:
            pool = pa.jemalloc_memory_pool()
        except NotImplementedError:  # a pyarrow built without jemalloc keeps its default
            return pa.default_memory_pool().backend_name
        pa.set_memory_pool(pool)
        pa.jemalloc_set_decay_ms(decay_ms)
    return pa.default_memory_pool().backend_name
