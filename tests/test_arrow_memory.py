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
