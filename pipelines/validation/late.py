"""Late filings: the day after the deadline, every active guarantor with no accepted filing for the period."""


import datetime as dt
import warnings

import pyarrow as pa
from dagster import (
    AssetDep,
    AssetExecutionContext,
    Config,
    DefaultScheduleStatus,
    Failure,
    MetadataValue,
    MultiToSingleDimensionPartitionMapping,
    Output,
    RunRequest,
    ScheduleEvaluationContext,
    asset,
    define_asset_job,
    in_process_executor,
    schedule,
)
from pydantic import Field

from connectors.archive import TableBundle
from filings.late import DeadlineNotPassedError, deadline_for, detect_late_filings
from pipelines import settings
from pipelines.partitions import JOB_TAG, PERIOD, TIMEZONE, period_partitions
from pipelines.resources import StoreResource
from validations.context import BEIJING, Period

IO_MANAGER = "filing_io_manager"

with warnings.catch_warnings():  # beta in Dagster 1.13, and the documented way to roll filings up by period
    warnings.simplefilter("ignore")
    _BY_PERIOD = MultiToSingleDimensionPartitionMapping(PERIOD)


class LateFilingsConfig(Config):
    deadline: str | None = Field(
        default=None, description="YYYY-MM-DD; default: day DANBAO_DEADLINE_DAY (15) of the month after the period."
    )


@asset(
    partitions_def=period_partitions,
    group_name="validation",
    io_manager_key=IO_MANAGER,
    kinds={"parquet"},
    deps=[AssetDep("accepted_filing", partition_mapping=_BY_PERIOD)],
    description=(
        "Active guarantors with no accepted filing for the period received by the deadline; recorded in the "
        "store (late_filings) and kept as a versioned table. Grade D of rules.md §5 reads this."
    ),
)
def late_filings(context: AssetExecutionContext, config: LateFilingsConfig, store: StoreResource) -> Output[TableBundle]:
    period = context.partition_key
    deadline = dt.date.fromisoformat(config.deadline) if config.deadline else deadline_for(period, settings.deadline_day())
    try:
        with store.session() as session:
            late = detect_late_filings(session, period, deadline)
    except DeadlineNotPassedError as exc:
        raise Failure(str(exc)) from None
    table = pa.table(
        {
            "institution_id": pa.array(late, pa.string()),
            "period": pa.array([period] * len(late), pa.string()),
            "deadline": pa.array([deadline] * len(late), pa.date32()),
        }
    )
    return Output(
        TableBundle({"period": period, "deadline": deadline.isoformat(), "late": len(late)}, {"late_filings": table}),
        metadata={"deadline": deadline.isoformat(), "late": len(late), "institutions": MetadataValue.json(late[:100])},
    )


late_filings_job = define_asset_job(
    "late_filings_job",
    selection=[late_filings],
    executor_def=in_process_executor,
    tags={JOB_TAG: "late"},
    description="Record the period's late filings.",
)


@schedule(
    name="late_filings_schedule",
    cron_schedule=f"30 0 {settings.deadline_day() + 1} * *",
    job=late_filings_job,
    execution_timezone=TIMEZONE,
    default_status=DefaultScheduleStatus.RUNNING,
    description="The day after the deadline (DANBAO_DEADLINE_DAY + 1, 00:30 Beijing): last month's late filings.",
)
def late_filings_schedule(context: ScheduleEvaluationContext) -> RunRequest:
    when = context.scheduled_execution_time.astimezone(BEIJING)
    period = str(Period(when.year, when.month).previous())
    return RunRequest(run_key=f"late-{period}", partition_key=period)


ASSETS = [late_filings]
