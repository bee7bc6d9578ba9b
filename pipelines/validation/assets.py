"""Validation assets, per filing partition: the rule engine's result with its phases as blocking checks,
and the accepted filing that everything downstream reads.

``validation_result`` always materializes (its findings are what the guarantor is told). Its three
checks, one per phase of rules.md, are blocking: a rejected filing fails at least one, so
``accepted_filing`` and anything downstream of it does not materialize from it. A filing that passes
every phase but has warnings is ``needs_confirmation``: ``accepted_filing`` then yields nothing and the
partition's previous accepted version stays the one downstream assets read, until the guarantor's
confirmation accepts it.
"""


from collections.abc import Iterator
from typing import Any

import pyarrow as pa
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    Failure,
    MetadataValue,
    Output,
    asset,
)

from pipelines.archive import TableBundle
from pipelines.bundles import bundle_to_filing
from pipelines.filing_service import begin_validation, record_result, registry_snapshot
from pipelines.io_managers import WRITE_ONCE
from pipelines.partitions import filing_partitions, split_key
from pipelines.resources import ArchiveResource, StoreResource
from store import repository as repo
from validations.catalog import rule
from validations.engine import CheckResult, validate

IO_MANAGER = "filing_io_manager"
TEMPLATE_FILES = ("guarantees", "financials", "compensations")

#: (phase, check name, what it covers): rules.md's phases 1–3.
PHASES = (
    (1, "phase_1_format", "Phase 1 — format (FMT): manifest, files, encodings, columns, types, registry, period."),
    (2, "phase_2_schema", "Phase 2 — schema (SCH): required values, codes, check characters, ranges, duplicates."),
    (3, "phase_3_consistency", "Phase 3 — consistency (BIZ): dates, balances, compensations, financials."),
)


@asset(
    partitions_def=filing_partitions,
    group_name="validation",
    io_manager_key=IO_MANAGER,
    kinds={"parquet"},
    check_specs=[
        AssetCheckSpec(name, asset="validation_result", blocking=True, description=text) for _, name, text in PHASES
    ],
    description=(
        "The rule engine's verdict on the submission (rejected / needs_confirmation / accepted), its findings "
        "and, unless rejected, the typed tables. Recorded in the store with the submission's new state."
    ),
)
def validation_result(
    context: AssetExecutionContext, parsed_tables: TableBundle, store: StoreResource, archive: ArchiveResource
) -> Iterator[Output[TableBundle] | AssetCheckResult]:
    period, guarantor = split_key(context.partition_key)
    submission_id = int(parsed_tables.meta["submission_id"])
    with store.session() as session:
        submission = repo.get_submission(session, submission_id)
        if submission is None:
            raise Failure(f"submission {submission_id} is not in the store")
        registry = registry_snapshot(session)
        recording = begin_validation(session, submission)
        previous = repo.previous_accepted(session, guarantor, period)
    previous_guarantees = None
    if previous is not None:  # BIZ-010 compares with the guarantor's last accepted filing
        bundle = archive.archive().accepted(previous.period, guarantor, previous.sequence, tables=["guarantees"])
        if bundle is None:
            context.log.warning(f"accepted filing {previous.period} #{previous.sequence} is not in the archive; BIZ-010 skipped")
        else:
            previous_guarantees = bundle.tables.get("guarantees")
    result = validate(bundle_to_filing(parsed_tables), registry, previous_guarantees=previous_guarantees)
    with store.session() as session:
        submission = repo.get_submission(session, submission_id)
        assert submission is not None  # read a moment ago; submissions are never deleted
        if recording:
            record_result(session, submission, result)
        else:
            context.log.info(f"submission {submission_id} is already {submission.state}; its record is final")
        state = str(submission.state)
    counts = result.counts()
    summary = {
        **{k: parsed_tables.meta[k] for k in ("submission_id", "institution_id", "period", "sequence", "source")},
        "status": str(result.status),
        "state": state,
        "phases_run": result.phases_run,
        "errors": counts["error"],
        "warnings": counts["warning"],
        "template_version": result.template_version,
        "previous_accepted": None if previous is None else f"{previous.period}#{previous.sequence}",
        "grade": result.grade,  # phase 4 (issue 4) runs inside the engine when phases 1–3 pass
        "indicators": result.indicators,
    }
    tables = {"findings": result.findings, **result.tables}
    if isinstance(result.extras.get("subsidies"), pa.Table):
        tables["subsidies"] = result.extras["subsidies"]
    yield Output(
        TableBundle(summary, tables),
        metadata={
            "status": str(result.status),
            "state": state,
            "sequence": summary["sequence"],
            "errors": counts["error"],
            "warnings": counts["warning"],
            "phases_run": MetadataValue.json(result.phases_run),
            "grade": result.grade or "",
            "rows": MetadataValue.json({n: t.num_rows for n, t in result.tables.items()}),
        },
    )
    yield from phase_checks(result)


def phase_checks(result: CheckResult) -> Iterator[AssetCheckResult]:
    """One check per phase: passed when the phase ran and found no error (warnings are metadata)."""
    by_phase: dict[int, dict[str, dict[str, int]]] = {1: {}, 2: {}, 3: {}}
    counted = result.findings.group_by(["rule_id", "severity"]).aggregate([([], "count_all")])
    for rule_id, severity, n in zip(*(counted[c].to_pylist() for c in ("rule_id", "severity", "count_all")), strict=True):
        phase = _phase_of(rule_id)
        by_phase.setdefault(phase, {}).setdefault(severity, {})[rule_id] = n
    for phase, name, _ in PHASES:
        errors = by_phase.get(phase, {}).get("error", {})
        warnings = by_phase.get(phase, {}).get("warning", {})
        ran = phase in result.phases_run
        metadata: dict[str, Any] = {
            "ran": ran,
            "errors": sum(errors.values()),
            "warnings": sum(warnings.values()),
            "errors_by_rule": MetadataValue.json(errors),
            "warnings_by_rule": MetadataValue.json(warnings),
        }
        if not ran:
            metadata["why_not_run"] = "an earlier phase found errors"
        yield AssetCheckResult(
            check_name=name,
            asset_key="validation_result",
            passed=ran and not errors,
            severity=AssetCheckSeverity.ERROR,
            metadata=metadata,
        )


def _phase_of(rule_id: str) -> int:
    try:
        return rule(rule_id).phase
    except KeyError:
        return {"FMT": 1, "SCH": 2, "BIZ": 3}.get(rule_id.split("-")[0], 4)


@asset(
    partitions_def=filing_partitions,
    group_name="validation",
    io_manager_key=IO_MANAGER,
    kinds={"parquet"},
    output_required=False,
    metadata={WRITE_ONCE: True},
    description=(
        "The typed tables of the guarantor's accepted filing for the period, one write-once version per "
        "accepted submission; the latest is the filing of record. Materializes only when every phase check "
        "passed and the submission is accepted: this is what phase-4 and publication assets read."
    ),
)
def accepted_filing(
    context: AssetExecutionContext, validation_result: TableBundle, store: StoreResource
) -> Iterator[Output[TableBundle]]:
    meta = validation_result.meta
    with store.session() as session:
        submission = repo.get_submission(session, int(meta["submission_id"]))
        assert submission is not None
        record = repo.last_accepted(session, submission.institution_id, submission.period)
    if submission.state not in repo.ACCEPTED_STATES:
        kept = f"accepted submission #{record.sequence} stays the filing of record" if record else "no accepted filing yet"
        context.log.info(f"submission #{submission.sequence} is {submission.state}, not accepted: {kept}")
        return
    tables: dict[str, pa.Table] = {n: validation_result.tables[n] for n in TEMPLATE_FILES if n in validation_result.tables}
    yield Output(
        TableBundle({**{k: meta[k] for k in ("submission_id", "institution_id", "period", "sequence", "source")},
                     "template_version": meta.get("template_version"),
                     "accepted_at": submission.accepted_at.isoformat() if submission.accepted_at else None}, tables),
        metadata={
            "sequence": submission.sequence,
            "filing_of_record": record is not None and record.id == submission.id,
            "rows": MetadataValue.json({n: t.num_rows for n, t in tables.items()}),
        },
    )


ASSETS = [validation_result, accepted_filing]
