"""Publication (issue 5): versioned, append-only Parquet datasets per period, the credit-information feed
and the supervisory report, delivered through an outbox.

The seam is the same as ``pipelines.prudential``: per-filing assets in ``FILING_ASSETS`` (they join
``filing_job``), per-period ones in ``PERIOD_ASSETS`` (they join ``period_job``). Write them through
``filing_io_manager`` with ``metadata={"danbao/write_once": True}``: a published partition is never
rewritten; a correction is a new version.
"""

from __future__ import annotations

from dagster import AssetsDefinition

FILING_ASSETS: list[AssetsDefinition] = []
PERIOD_ASSETS: list[AssetsDefinition] = []
