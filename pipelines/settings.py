"""Settings read from the environment when the code location loads (no I/O: ``os.environ`` only).

These shape definitions (partitions, cron strings), so they are read at load time; everything that
touches files, databases or the network is configured on resources and resolved at run time.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")

DEFAULT_DEADLINE_DAY = 15
DEFAULT_PARTITION_MONTHS = 12


def deadline_day() -> int:
    """The filing deadline: this day of the month after the period (rules.md §5: the 15th by default).

    Limited to 1–27 so that the late-filing schedule (the day after) exists in every month.
    """
    value = int(os.environ.get("DANBAO_DEADLINE_DAY") or DEFAULT_DEADLINE_DAY)
    if not 1 <= value <= 27:
        raise ValueError(f"DANBAO_DEADLINE_DAY must be between 1 and 27, not {value}")
    return value


def first_period(today: dt.date | None = None) -> str:
    """The first period of the partitioned graph: ``DANBAO_FIRST_PERIOD`` (YYYY-MM) when set, else a
    rolling window of ``DANBAO_PARTITION_MONTHS`` (12) months before the current one (Beijing time).

    Packages for earlier periods are still received, validated and published (the batch job, or the
    triage job), but get no partition: 4,000 guarantors × 14 periods (the window, the current month and
    the next) stays near 56,000 filing partitions whatever the years, within what Dagster handles well
    (see docs/pipeline.md).
    """
    value = os.environ.get("DANBAO_FIRST_PERIOD")
    if not value:
        months = int(os.environ.get("DANBAO_PARTITION_MONTHS") or DEFAULT_PARTITION_MONTHS)
        today = today or dt.datetime.now(BEIJING).date()
        index = today.year * 12 + today.month - 1 - months
        return f"{index // 12:04d}-{index % 12 + 1:02d}"
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", value):
        raise ValueError(f"DANBAO_FIRST_PERIOD must be YYYY-MM, not {value!r}")
    return value


BATCH, PER_SUBMISSION = "batch", "per_submission"
DEFAULT_BATCH_SIZE = 50


def run_layout() -> str:
    """``DANBAO_RUN_LAYOUT``: ``batch`` (default; many submissions per run) or ``per_submission``."""
    value = (os.environ.get("DANBAO_RUN_LAYOUT") or BATCH).strip()
    if value not in (BATCH, PER_SUBMISSION):
        raise ValueError(f"DANBAO_RUN_LAYOUT must be {BATCH} or {PER_SUBMISSION}, not {value!r}")
    return value


def batch_size() -> int:
    """``DANBAO_BATCH_SIZE``: submissions per batch run (default 50: a run's fixed cost of a few seconds
    stays under a tenth of the batch's work at typical filing sizes)."""
    value = int(os.environ.get("DANBAO_BATCH_SIZE") or DEFAULT_BATCH_SIZE)
    if value < 1:
        raise ValueError(f"DANBAO_BATCH_SIZE must be at least 1, not {value}")
    return value


#: Written by ``make demo`` into its ``DANBAO_HOME``: the one place a local, per-folder pseudonym key is allowed.
DEMO_MARKER = ".danbao-demo"
IN_PROCESS, CELERY = "in_process", "celery"
DEFAULT_CELERY_QUEUE = "danbao"


def engine() -> str:
    """``DANBAO_ENGINE``: where batch runs execute. ``in_process`` (default): the run's own process;
    ``celery``: the step goes to a dagster-celery worker through the broker (docs/pipeline.md)."""
    value = (os.environ.get("DANBAO_ENGINE") or IN_PROCESS).strip()
    if value not in (IN_PROCESS, CELERY):
        raise ValueError(f"DANBAO_ENGINE must be {IN_PROCESS} or {CELERY}, not {value!r}")
    return value


def celery_queue() -> str:
    """``DANBAO_CELERY_QUEUE``: the Celery queue batch steps are sent to (workers listen with ``-q``)."""
    value = (os.environ.get("DANBAO_CELERY_QUEUE") or DEFAULT_CELERY_QUEUE).strip()
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,100}", value):
        raise ValueError(f"DANBAO_CELERY_QUEUE must be letters, digits, '_', '.' or '-', not {value!r}")
    return value
