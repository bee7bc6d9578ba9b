"""Publication: the PBOC credit-information feed and the CBRC supervisory report, queued per
filing in the outbox and delivered per period (``delivery_job``) exactly once.

Per-filing assets are in ``FILING_ASSETS`` (they join ``filing_job``); ``deliveries`` has its own job
because it talks to the regulators' endpoints and is safe to run again at any time.
"""

from pipelines.publication.assets import FILING_ASSETS, PERIOD_ASSETS, deliveries, delivery_job

__all__ = ["FILING_ASSETS", "PERIOD_ASSETS", "deliveries", "delivery_job"]
