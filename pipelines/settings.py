"""Settings read from the environment when the code location loads (no I/O: ``os.environ`` only).

These shape definitions (partitions, cron strings), so they are read at load time; everything that
touches files, databases or the network is configured on resources and resolved at run time.
"""

from __future__ import annotations

import os
import re

DEFAULT_DEADLINE_DAY = 15
DEFAULT_FIRST_PERIOD = "2024-01"


def deadline_day() -> int:
    """The filing deadline: this day of the month after the period (rules.md §5: the 15th by default).

    Limited to 1–27 so that the late-filing schedule (the day after) exists in every month.
    """
    value = int(os.environ.get("DANBAO_DEADLINE_DAY") or DEFAULT_DEADLINE_DAY)
    if not 1 <= value <= 27:
        raise ValueError(f"DANBAO_DEADLINE_DAY must be between 1 and 27, not {value}")
    return value


def first_period() -> str:
    """The first period of the partitioned graph (``DANBAO_FIRST_PERIOD``, YYYY-MM).

    Packages for earlier periods are still received and validated (the triage job), but get no
    partition: this keeps guarantors × periods within what Dagster handles well (see docs/pipeline.md).
    """
    value = os.environ.get("DANBAO_FIRST_PERIOD") or DEFAULT_FIRST_PERIOD
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", value):
        raise ValueError(f"DANBAO_FIRST_PERIOD must be YYYY-MM, not {value!r}")
    return value
