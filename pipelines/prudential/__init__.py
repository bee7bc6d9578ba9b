"""Phase 4: prudential indicators, PRU/NEG/POL/SUB findings, grades and subsidies.

The seam: add assets to the two lists and they join the graph and its jobs.

- ``FILING_ASSETS``: per filing partition (``partitions_def=pipelines.partitions.filing_partitions``),
  reading ``accepted_filing`` (an input named ``accepted_filing``: the IO manager hands over the filing of
  record). They join ``filing_job`` and so run right after a filing is accepted, in the same run, and
  never from a rejected or unconfirmed one (the phase checks are blocking).
- ``PERIOD_ASSETS``: per period (``partitions_def=pipelines.partitions.period_partitions``) roll-ups over
  every guarantor of the period, with ``MultiToSingleDimensionPartitionMapping("period")`` on their
  filing-partitioned inputs, as ``late_filings`` does. They join ``period_job``.
"""

from __future__ import annotations

from pipelines.prudential.assets import FILING_ASSETS, PERIOD_ASSETS

__all__ = ["FILING_ASSETS", "PERIOD_ASSETS"]
