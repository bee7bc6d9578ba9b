"""The code location: ``dagster dev`` and ``dagster-webserver`` load ``defs`` from here
(``[tool.dagster] module_name`` in pyproject.toml).

Loading it imports the domains and builds definitions; it opens no file, database or socket (resources
resolve their environment variables and paths at run time) and does not import Great Expectations.

Domains, each a package: ``intake`` (landing folder, pull, triage), ``lifecycle`` (the sensor that plans
runs from the store's state), ``validation`` (the one validation, the
accepted filing, late filings), ``prudential`` and ``publication``, which plug in
through their ``FILING_ASSETS``/``PERIOD_ASSETS`` lists (see ``pipelines.jobs``).
"""

from __future__ import annotations

import warnings
from typing import Any

from dagster import BetaWarning, Definitions

from connectors.arrow_memory import use_returning_pool
from pipelines.batch.jobs import filing_batch_job, filing_batch_job_celery
from pipelines.intake.pull import pull_job, pull_schedule
from pipelines.intake.triage import triage_job
from pipelines.io_managers import FilingIOManager
from pipelines.jobs import FILING_ASSETS, PERIOD_ASSETS, filing_job, period_job
from pipelines.lifecycle.sensors import guarantor_partitions_sensor, intake_sensor
from pipelines.publication import deliveries, delivery_job
from pipelines.resources import (
    ArchiveResource,
    DatasetsResource,
    LandingResource,
    PullResource,
    StoreResource,
    env_var,
)
from pipelines.validation.late import late_filings_job, late_filings_schedule


def default_resources() -> dict[str, Any]:
    """The resources of the code location, from the environment (docs/pipeline.md lists the variables)."""
    archive = ArchiveResource(url=env_var("DANBAO_TABLES_URL"))
    return {
        "store": StoreResource(database_url=env_var("DANBAO_DATABASE_URL"), blob_root=env_var("DANBAO_BLOB_ROOT")),
        "landing": LandingResource(path=env_var("DANBAO_LANDING")),
        "pull": PullResource(endpoints_file=env_var("DANBAO_PULL_ENDPOINTS"), token=env_var("DANBAO_PULL_TOKEN")),
        "archive": archive,
        "datasets": DatasetsResource(root=env_var("DANBAO_DATASETS_DIR"), pseudonym_key=env_var("DANBAO_PSEUDONYM_KEY")),
        "filing_io_manager": FilingIOManager(archive=archive),
    }


def build_defs(resources: dict[str, Any] | None = None) -> Definitions:
    """The definitions, with ``resources`` replacing the environment-configured defaults by key."""
    defs = Definitions(
        assets=[*FILING_ASSETS, *PERIOD_ASSETS, deliveries],
        jobs=[filing_batch_job, filing_batch_job_celery, filing_job, period_job, late_filings_job, pull_job, triage_job, delivery_job],
        schedules=[pull_schedule, late_filings_schedule],
        sensors=[intake_sensor, guarantor_partitions_sensor],
        resources={**default_resources(), **(resources or {})},
    )
    with warnings.catch_warnings():  # Dagster 1.13 warns about its own beta `owners` while attaching resources
        warnings.simplefilter("ignore", BetaWarning)
        defs.get_repository_def()  # resolves (and caches) the repository: CPU only, no I/O
    return defs


use_returning_pool()  # a run worker loads this module before it allocates: Arrow's pool for the process
defs = build_defs()
