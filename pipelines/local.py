"""The local Dagster instance the commands and the demo run on: ``$DAGSTER_HOME``, by default
``$DANBAO_HOME/dagster`` (./var/dagster), with the repository's ``dagster.yaml`` copied in when missing,
so that ``dagster dev`` started on the same ``DAGSTER_HOME`` shows their runs."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from dagster import DagsterInstance

from store.config import danbao_home

REPO_INSTANCE_YAML = Path(__file__).resolve().parents[1] / "dagster.yaml"
MINIMAL_INSTANCE_YAML = """\
storage:
  sqlite:
    base_dir:
      env: DAGSTER_HOME
concurrency:
  runs:
    max_concurrent_runs: 4
telemetry:
  enabled: false
"""


def local_dagster_home() -> Path:
    """``$DAGSTER_HOME`` (set to ``$DANBAO_HOME/dagster`` when unset), created, with a ``dagster.yaml``."""
    home = Path(os.environ.get("DAGSTER_HOME") or danbao_home() / "dagster").expanduser().resolve()
    home.mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(home)
    config = home / "dagster.yaml"
    if not config.exists():
        if REPO_INSTANCE_YAML.is_file():
            shutil.copyfile(REPO_INSTANCE_YAML, config)
        else:  # installed from a wheel: the repository's file is not there
            config.write_text(MINIMAL_INSTANCE_YAML, encoding="utf-8")
    return home


def local_instance() -> DagsterInstance:
    local_dagster_home()
    return DagsterInstance.get()
