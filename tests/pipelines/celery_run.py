"""Orchestrate one run of ``filing_batch_job_celery`` in this process, as a run launcher's run process
would (the step itself goes to a celery worker): ``python -m tests.pipelines.celery_run REQUEST_JSON``.
Prints ``{"success": bool, "worker": "host:pid"}``. Dagster's execute_job is not thread-safe, hence a
process per run."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from dagster import DagsterEventType, DagsterInstance, execute_job
from dagster._core.definitions.reconstruct import ReconstructableRepository

ROOT = Path(__file__).resolve().parents[2]


def main(spec: str) -> int:
    request = json.loads(spec)
    recon = ReconstructableRepository.for_module("pipelines.definitions", "defs", working_directory=str(ROOT))
    job = recon.get_reconstructable_job("filing_batch_job_celery")
    with DagsterInstance.get() as instance, execute_job(
            job, instance, run_config=request["run_config"], tags=request["tags"], raise_on_error=False) as result:
        outputs = [e for e in result.all_events if e.event_type == DagsterEventType.STEP_OUTPUT]
        worker = outputs[0].step_output_data.metadata["worker"].value if outputs else None
        print(json.dumps({"success": result.success, "worker": worker, "run_id": result.run_id}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
