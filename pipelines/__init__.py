"""Danbao's outer layer: the Dagster definitions and the `danbao` command line.

Importing it gives Arrow's jemalloc Danbao's options (``connectors.arrow_memory``) before anything
imports pyarrow: the CLI and the code location both start here, and jemalloc reads its options once.
"""

from connectors.arrow_memory import configure_jemalloc

configure_jemalloc()
