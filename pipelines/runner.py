"""The pipeline in one process: what the Dagster daemon does (evaluate the intake sensor and the
schedules' jobs, launch the runs they request), done once, synchronously.

``danbao run``, ``danbao late``, the demo, the benchmark and the end-to-end tests use this, so they go
through exactly the definitions ``dagster dev`` serves: the same sensor code decides what to run, the
same jobs run, on whatever Dagster instance is given (``DAGSTER_HOME``'s, or a test's).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dagster import (
    AddDynamicPartitionsRequest,
    DagsterInstance,
    Definitions,
    ExecuteInProcessResult,
    RunConfig,
    RunRequest,
    SensorResult,
    SkipReason,
    build_sensor_context,
)

from pipelines.intake.pull import PullConfig
from pipelines.partitions import SUBMISSION_TAG
from pipelines.validation.late import LateFilingsConfig

INTAKE_SENSOR = "intake_sensor"


def pool_storage_connections(instance: DagsterInstance) -> None:
    """Keep one pooled connection per storage for the life of this process. dagster-postgres opens a new
    connection for every call by default (hundreds per run); a process that runs many runs, like this
    runner, reuses one instead, as Dagster's webserver does. SQLite storages are left as they are."""
    if type(instance.run_storage).__module__.startswith("dagster_postgres"):
        instance.optimize_for_webserver(statement_timeout=0, pool_recycle=3600, max_overflow=2)


@dataclass(frozen=True)
class Launched:
    """One run this runner executed."""

    run_id: str
    job_name: str
    partition_key: str | None
    submission_id: int | None
    success: bool
    seconds: float
    submission_ids: tuple[int, ...] = ()  # every submission the run took: its tag's, or its batch's


class InProcessRunner:
    """Evaluate sensors and execute the runs they request in this process, on ``instance``.

    ``cursor_file`` keeps the intake sensor's cursor between invocations (``danbao run`` twice does not
    hash the landing folder's packages twice); without it the cursor lives as long as the object.
    """

    def __init__(self, defs: Definitions, instance: DagsterInstance, cursor_file: str | Path | None = None,
                 log_level: str = "WARNING") -> None:
        self.defs = defs
        self.log_level = log_level
        self.instance = instance
        pool_storage_connections(instance)
        self.cursor_file = Path(cursor_file) if cursor_file else None
        self.cursors: dict[str, str | None] = {}
        if self.cursor_file and self.cursor_file.is_file():
            try:
                self.cursors = json.loads(self.cursor_file.read_text(encoding="utf-8"))
            except ValueError:
                self.cursors = {}

    # -- sensors ---------------------------------------------------------------------------------

    def evaluate_sensor(self, name: str = INTAKE_SENSOR) -> list[RunRequest]:
        """One tick of sensor ``name``: apply its partition requests, keep its cursor, return its run requests."""
        sensor_def = self.defs.resolve_sensor_def(name)
        with build_sensor_context(
            instance=self.instance,
            cursor=self.cursors.get(name),
            definitions=self.defs,
            sensor_name=name,
            resources=dict(self.defs.resources or {}),
        ) as context:
            context.log.setLevel(self.log_level)  # the sensor's own logger prints to the console at INFO
            result = sensor_def(context)
            cursor = context.cursor
        if isinstance(result, SkipReason) or result is None:
            return []
        if isinstance(result, RunRequest):
            return [result]
        if isinstance(result, SensorResult):
            for request in result.dynamic_partitions_requests or []:
                if isinstance(request, AddDynamicPartitionsRequest):
                    self.instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
            if result.cursor is not None:
                cursor = result.cursor
            self._save_cursor(name, cursor)
            return list(result.run_requests or [])
        return list(result)

    def _save_cursor(self, name: str, cursor: str | None) -> None:
        """Keep the cursor, whole: written aside and renamed into place, so a process killed while writing
        it leaves the previous cursor (a lost cursor only costs hashing the landing folder again: the
        store's de-duplication by SHA-256 keeps each package one submission)."""
        self.cursors[name] = cursor
        if self.cursor_file:
            self.cursor_file.parent.mkdir(parents=True, exist_ok=True)
            part = self.cursor_file.with_name(f".{self.cursor_file.name}.part")
            part.write_text(json.dumps(self.cursors), encoding="utf-8")
            os.replace(part, self.cursor_file)

    # -- runs ------------------------------------------------------------------------------------

    def launch(self, requests: Sequence[RunRequest]) -> list[Launched]:
        """Execute each run request in-process, one after the other; a failed run (a rejected filing
        fails its blocking checks) does not stop the others."""
        launched = []
        for request in requests:
            job = self.defs.resolve_job_def(request.job_name or "")
            if request.asset_selection:  # e.g. an accepted submission's datasets and deliveries only
                job = job.get_subset(asset_selection=set(request.asset_selection))
            started = time.perf_counter()
            result = job.execute_in_process(
                run_config=self._config(request.run_config),
                instance=self.instance,
                partition_key=request.partition_key,
                tags=dict(request.tags),
                raise_on_error=False,
            )
            tag = request.tags.get(SUBMISSION_TAG)
            batch = ((request.run_config or {}).get("ops", {}).get("process_filings", {})
                     .get("config", {}).get("submission_ids", []))
            ids = tuple(batch) if batch else ((int(tag),) if tag else ())
            launched.append(
                Launched(result.run_id, job.name, request.partition_key, int(tag) if tag else None, result.success,
                         time.perf_counter() - started, ids)
            )
        return launched

    def tick(self, name: str = INTAKE_SENSOR) -> list[Launched]:
        """One sensor tick and its runs."""
        return self.launch(self.evaluate_sensor(name))

    def intake(self, settle_seconds: float = 1.0) -> list[Launched]:
        """Everything waiting: two intake ticks ``settle_seconds`` apart (a landing package must look the
        same twice before it is picked up), with their runs."""
        launched = self.tick()
        time.sleep(settle_seconds)
        return launched + self.tick()

    def run_job(self, name: str, run_config: Any = None, partition_key: str | None = None,
                tags: dict[str, str] | None = None) -> ExecuteInProcessResult:
        return self.defs.resolve_job_def(name).execute_in_process(
            run_config=self._config(run_config), instance=self.instance, partition_key=partition_key, tags=tags, raise_on_error=False
        )

    def _config(self, run_config: Any) -> dict[str, Any]:
        """The run config with the console logger at ``log_level`` (Dagster's default, DEBUG, floods a terminal)."""
        config = run_config.to_config_dict() if isinstance(run_config, RunConfig) else dict(run_config or {})
        config = {key: value for key, value in config.items() if value}
        config.setdefault("loggers", {"console": {"config": {"log_level": self.log_level}}})
        return config

    def pull(self, period: str) -> ExecuteInProcessResult:
        """One run of the pull job for ``period`` (what the pull schedule does daily)."""
        return self.run_job("pull_job", RunConfig(ops={"pull_packages": PullConfig(period=period)}))

    def late(self, period: str, deadline: dt.date | None = None) -> ExecuteInProcessResult:
        """Materialize ``late_filings`` for ``period`` (what the late-filing schedule does)."""
        config = LateFilingsConfig(deadline=deadline.isoformat() if deadline else None)
        return self.run_job("late_filings_job", RunConfig(ops={"late_filings": config}), partition_key=period)
