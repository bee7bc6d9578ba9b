"""Arrow's pool in Danbao's processes (connectors/arrow_memory.py): jemalloc, which hands freed pages back,
unless the operator chose a pool; every entry point (the CLI, the code location) sets it first."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_BACKEND = "import pyarrow as pa; print(pa.default_memory_pool().backend_name, end='')"


def _backend(code: str, **env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"} | env
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True,
                          timeout=120, check=True)
    return done.stdout


def test_jemalloc_replaces_the_default_pool() -> None:
    assert _backend(_BACKEND) == "mimalloc"  # pyarrow's wheels, left alone
    chosen = _backend("from connectors.arrow_memory import use_returning_pool; print(use_returning_pool(), end=' ');"
                      + _BACKEND)
    assert chosen == "jemalloc jemalloc"


def test_an_operators_choice_wins() -> None:
    chosen = _backend("from connectors.arrow_memory import use_returning_pool; print(use_returning_pool(), end='')",
                      ARROW_DEFAULT_MEMORY_POOL="system")
    assert chosen == "system"


def test_the_code_location_sets_it_on_load() -> None:
    assert _backend("import pipelines.definitions;" + _BACKEND) == "jemalloc"


def test_the_cli_sets_it_before_a_command_runs() -> None:
    code = ("import sys, pyarrow as pa; from pipelines import cli; from pipelines.commands import config;"
            "config.run = lambda args: print(pa.default_memory_pool().backend_name, end='') or 0;"
            "sys.argv = ['danbao', 'config']; sys.exit(cli.console())")
    assert _backend(code) == "jemalloc"


_RETURNED = """
import os, time
{prelude}
import pyarrow as pa
from connectors.arrow_memory import use_returning_pool
use_returning_pool()

def resident_mb():
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") >> 20

before = resident_mb()
blocks = [pa.allocate_buffer(4 << 20) for _ in range(64)]  # a phase's arrays, freed together
for block in blocks:
    memoryview(block).cast("B")[::4096] = b"x" * 1024  # touch every page
held = resident_mb()
del blocks, block
time.sleep(0.25)
print(held - before, resident_mb() - before)
"""


def _held_and_kept(prelude: str, **env: str) -> tuple[int, int]:
    environment = {k: v for k, v in os.environ.items() if k != "JE_ARROW_MALLOC_CONF"} | env
    done = subprocess.run([sys.executable, "-c", _RETURNED.format(prelude=prelude)], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=120, check=True)
    held, kept = (int(v) for v in done.stdout.split())
    return held, kept


def test_freed_pages_leave_the_resident_size_with_the_options_set_before_pyarrow() -> None:
    held, kept = _held_and_kept("import pipelines")  # the package sets the options on import
    assert held >= 250
    assert kept < 16  # handed back within the quarter second, not kept as "muzzy" pages


def test_without_the_options_arrows_first_arena_keeps_them() -> None:
    # what the options fix: the main thread's arena keeps freed pages for Arrow's one second, then
    # marks them MADV_FREE, still resident (measured: 48 of the 256 MB after a quarter second)
    held, kept = _held_and_kept("import pyarrow; import pipelines")  # too late: pyarrow read its options
    assert held >= 250
    assert kept >= 32


def test_an_operators_jemalloc_options_win() -> None:
    code = ("import os; import pipelines; print(os.environ['JE_ARROW_MALLOC_CONF'], end='')")
    assert _backend(code, JE_ARROW_MALLOC_CONF="narenas:2") == "narenas:2"
    assert _backend("import os; import pipelines; print(os.environ['JE_ARROW_MALLOC_CONF'], end='')").startswith(
        "dirty_decay_ms:30")
