"""Settings that shape the definitions (partitions, cron strings, run layout), read when the code
location loads (no I/O: the environment only, through ``filings.settings``, which checks each value).

Everything that touches files, databases or the network is configured on resources and resolved at
run time.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from filings.settings import load

BEIJING = ZoneInfo("Asia/Shanghai")


def deadline_day() -> int:
    """The filing deadline: this day of the month after the period (rules.md §5: the 15th by default).

    Limited to 1–27 so that the late-filing schedule (the day after) exists in every month.
    """
    return load().deadline_day


def first_period(today: dt.date | None = None) -> str:
    """The first period of the partitioned graph: ``DANBAO_FIRST_PERIOD`` (YYYY-MM) when set, else a
    rolling window of ``DANBAO_PARTITION_MONTHS`` (12) months before the current one (Beijing time).

    Packages for earlier periods are still received, validated and published (the batch job, or the
    triage job), but get no partition: 4,000 guarantors × 14 periods (the window, the current month and
    the next) stays near 56,000 filing partitions whatever the years, within what Dagster handles well
    (see docs/pipeline.md).
    """
    settings = load()
    if settings.first_period:
        return settings.first_period
    today = today or dt.datetime.now(BEIJING).date()
    index = today.year * 12 + today.month - 1 - settings.partition_months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


BATCH, PER_SUBMISSION = "batch", "per_submission"


def run_layout() -> str:
    """``DANBAO_RUN_LAYOUT``: ``batch`` (default; many submissions per run) or ``per_submission``."""
    return load().run_layout


def batch_size() -> int:
    """``DANBAO_BATCH_SIZE``: submissions per batch run (default 50: a run's fixed cost of a few seconds
    stays under a tenth of the batch's work at typical filing sizes)."""
    return load().batch_size


#: Written by ``make demo`` into its ``DANBAO_HOME``: the one place a local, per-folder pseudonym key is allowed.
DEMO_MARKER = ".danbao-demo"
IN_PROCESS, CELERY = "in_process", "celery"


def engine() -> str:
    """``DANBAO_ENGINE``: where batch runs execute. ``in_process`` (default): the run's own process;
    ``celery``: the step goes to a dagster-celery worker through the broker (docs/pipeline.md)."""
    return load().engine


def celery_queue() -> str:
    """``DANBAO_CELERY_QUEUE``: the Celery queue batch steps are sent to (workers listen with ``-q``)."""
    return load().celery_queue
