"""Which allocator Arrow's buffers come from in Danbao's processes, and how it hands memory back.

pyarrow's wheels allocate from mimalloc by default. A check allocates and frees hundreds of MB in
blocks of every size on two threads, and mimalloc keeps what was freed mapped for reuse: on a
million-row ledger its process peaked at ≈ 1.2 GB while Arrow itself held at most ≈ 0.7 GB, and
the kernel's time went to faulting fresh pages in (4.1–4.7 s of system time). jemalloc, which the same
wheels carry, hands freed pages back after a short decay: the same check peaked at ≈ 0.9 GB, with
2.3–2.9 s of system time and a shorter wall time (README, "Under 1 GB"). Large file buffers keep
coming from the system allocator (``connectors.arrow_sources``).

How jemalloc hands pages back is set by its options, which it reads once, from ``JE_ARROW_MALLOC_CONF``,
when pyarrow is imported (:data:`JEMALLOC_OPTIONS`, set by :func:`configure_jemalloc` before that
import). Arrow's own defaults keep freed pages for a second in the first arena, the main thread's,
and then only mark them free (``MADV_FREE``: "muzzy"), which leaves them counted in the process's
resident size until the kernel is short of memory; ``pa.jemalloc_set_decay_ms`` reaches only arenas
created after it is called. Measured on a million-row check: freed pages made 100–220 MB of the peak.
"""

from __future__ import annotations

import os
import sys

#: how long jemalloc keeps freed pages when its options could not be set before pyarrow was imported
DECAY_MS = 100

#: jemalloc's options for Arrow's pool: freed pages go back to the system within 30 ms (in every arena,
#: by jemalloc's background thread rather than at the next allocation that happens to look), and at
#: once for good (``muzzy_decay_ms:0``: ``MADV_DONTNEED``, not ``MADV_FREE``). On a million-row check,
#: against Arrow's defaults: peak 1,012–1,042 → 902–955 MB, and no slower (1.85 → 1.74 s, less
#: system time); one arena for all threads or no background thread kept 20–50 MB more.
JEMALLOC_OPTIONS = "dirty_decay_ms:30,muzzy_decay_ms:0,background_thread:true"
OPTIONS_VARIABLE = "JE_ARROW_MALLOC_CONF"  # the environment variable Arrow's jemalloc reads them from


def configure_jemalloc() -> bool:
    """Give Arrow's jemalloc :data:`JEMALLOC_OPTIONS`, unless the operator set options of their own or
    pyarrow is already imported (jemalloc has read its options by then); whether ours are now set. Child
    processes inherit them with the environment."""
    if OPTIONS_VARIABLE in os.environ or "pyarrow" in sys.modules:
        return False
    os.environ[OPTIONS_VARIABLE] = JEMALLOC_OPTIONS
    return True


def use_returning_pool(decay_ms: int = DECAY_MS) -> str:
    """Make jemalloc Arrow's default pool for this process, unless the operator chose one
    (``ARROW_DEFAULT_MEMORY_POOL``) or this build of pyarrow lacks it; the backend in use. Without
    jemalloc options in the environment (pyarrow was imported before :func:`configure_jemalloc` could
    set them), arenas created from now on hand pages back after ``decay_ms``."""
    import pyarrow as pa

    if not os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        try:
            pool = pa.jemalloc_memory_pool()
        except NotImplementedError:  # a pyarrow built without jemalloc keeps its default
            return pa.default_memory_pool().backend_name
        pa.set_memory_pool(pool)
        if OPTIONS_VARIABLE not in os.environ:
            pa.jemalloc_set_decay_ms(decay_ms)
    return pa.default_memory_pool().backend_name
