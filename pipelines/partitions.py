"""Partitions: period (monthly) × guarantor (dynamic), and the run tags that tie a run to a submission.

A filing partition key is a ``MultiPartitionKey`` of ``period`` (``2026-10``) and ``guarantor`` (the
USCC: 18 digits or capital letters, none of the characters Dagster forbids in multi-partition keys).
Guarantors are added as dynamic partitions from the registry and from new submissions; a submission
whose guarantor or period cannot be a partition key (a garbled manifest, a period outside the graph)
is validated by the unpartitioned triage job instead.
"""

from __future__ import annotations

import datetime as dt

from dagster import (
    DynamicPartitionsDefinition,
    MonthlyPartitionsDefinition,
    MultiPartitionKey,
    MultiPartitionsDefinition,
)

from connectors.intake.receive import is_period, is_uscc_shaped
from pipelines import settings

PERIOD = "period"
GUARANTOR = "guarantor"
TIMEZONE = "Asia/Shanghai"

#: Run tags: which submission a run validates (set by the intake sensor; read by ``received_package``).
SUBMISSION_TAG = "danbao/submission_id"
SEQUENCE_TAG = "danbao/sequence"
SOURCE_TAG = "danbao/source"
JOB_TAG = "danbao/job"  # for run-queue limits per kind of run (dagster.yaml)

guarantor_partitions = DynamicPartitionsDefinition(name=GUARANTOR)

# end_offset=1: the current, still open month is a partition too, so that an early package for it is
# validated (and rejected, FMT-006) like any other instead of having nowhere to go.
period_partitions = MonthlyPartitionsDefinition(
    start_date=settings.first_period(), fmt="%Y-%m", timezone=TIMEZONE, end_offset=1
)

filing_partitions = MultiPartitionsDefinition({PERIOD: period_partitions, GUARANTOR: guarantor_partitions})


def filing_key(period: str, guarantor: str) -> MultiPartitionKey:
    return MultiPartitionKey({PERIOD: period, GUARANTOR: guarantor})


def split_key(key: str | MultiPartitionKey) -> tuple[str, str]:
    """(period, guarantor) of a filing partition key."""
    if not isinstance(key, MultiPartitionKey):
        key = filing_partitions.get_partition_key_from_str(key)
    dims = key.keys_by_dimension
    return dims[PERIOD], dims[GUARANTOR]


def partition_periods(now: dt.datetime | None = None) -> set[str]:
    return set(period_partitions.get_partition_keys(current_time=now))


def partitionable(institution_id: str | None, period: str | None, periods: set[str]) -> bool:
    """Whether a submission can run as a filing partition (else: the triage job)."""
    return is_uscc_shaped(institution_id) and is_period(period) and period in periods
