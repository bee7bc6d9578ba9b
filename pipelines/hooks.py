"""What a failed step of a submission's run tells the store.

A run planned for one submission (``filing_job``, ``triage_job``) that fails on a step by itself — an
error in its processing, not a kill — counts an attempt against that submission (``failed_attempt``), so
that it is planned again at once and, after ``MAX_ATTEMPTS`` failures, left for an operator instead of
failing every lease for ever. A killed run runs no hook: its claim simply expires, which is no attempt.
The batch job counts its own failures per filing, in the op.
"""

from __future__ import annotations

from dagster import HookContext, failure_hook

from filings.lifecycle import failed_attempt
from pipelines.partitions import SUBMISSION_TAG


@failure_hook(required_resource_keys={"store"})
def count_failed_attempt(context: HookContext) -> None:
    run = context.instance.get_run_by_id(context.run_id)
    raw = run.tags.get(SUBMISSION_TAG) if run is not None else None
    if raw is None or not raw.isdigit():
        return  # a run started by hand, for no submission of the store
    with context.resources.store.session() as session:
        failed_attempt(session, int(raw))
    context.log.warning(f"submission {raw}: a failed attempt counted ({context.step_key} failed)")
