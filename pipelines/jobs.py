"""The asset jobs: one run per filing partition (one submission), one per period.

``filing_job`` runs a submission's whole per-filing chain in one run with the in-process executor:
the steps are sequential anyway (each reads the previous one's output), so separate processes per
step would add seconds of start-up to every filing and nothing else. Parallelism is across runs: the
run queue (dagster.yaml) runs several filings at once.
"""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job, in_process_executor

from pipelines import prudential, publication
from pipelines.hooks import count_failed_attempt
from pipelines.intake.assets import ASSETS as INTAKE_ASSETS
from pipelines.partitions import JOB_TAG
from pipelines.validation.assets import ASSETS as VALIDATION_ASSETS
from pipelines.validation.late import ASSETS as LATE_ASSETS

FILING_ASSETS = [*INTAKE_ASSETS, *VALIDATION_ASSETS, *prudential.FILING_ASSETS, *publication.FILING_ASSETS]
PERIOD_ASSETS = [*LATE_ASSETS, *prudential.PERIOD_ASSETS, *publication.PERIOD_ASSETS]

filing_job = define_asset_job(
    "filing_job",
    selection=AssetSelection.assets(*FILING_ASSETS),
    executor_def=in_process_executor,
    tags={JOB_TAG: "filing"},
    hooks={count_failed_attempt},
    description=(
        "One submission: received package → validation result (phases 1–4 once; blocking phase checks) → accepted "
        "filing → its datasets and its queued PBOC/CBRC deliveries. Runs of only the last three take a submission "
        "accepted outside its run (confirmed, or validated inline) the rest of the way."
    ),
)

period_job = define_asset_job(
    "period_job",
    selection=AssetSelection.assets(*PERIOD_ASSETS),
    executor_def=in_process_executor,
    tags={JOB_TAG: "period"},
    description="A period across guarantors: late filings, every guarantor's grade (late filers D), the discipline list, the district roll-up.",
)
