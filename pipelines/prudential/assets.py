"""Phase-4 assets (issue 4): per filing, the indicators, findings, grade and subsidies of the filing of
record, published as versioned datasets; per period, the grades of every guarantor (late filers graded
D), the joint-discipline list and the district roll-up.

The computations are the library's (``validations.prudential``, ``connectors.datasets``); these assets
only decide what is read, when, and where it goes.
"""


import warnings

import pyarrow as pa
from dagster import (
    AssetDep,
    AssetExecutionContext,
    MetadataValue,
    MultiToSingleDimensionPartitionMapping,
    Output,
    asset,
)

from connectors.datasets.tables import (
    discipline_table,
    findings_table,
    grades_table,
    guarantees_table,
    indicators_table,
    subsidies_table,
)
from pipelines.archive import TableBundle
from pipelines.filing_service import registry_snapshot
from pipelines.partitions import PERIOD, filing_partitions, period_partitions, split_key
from pipelines.resources import DatasetsResource, StoreResource
from store import repository as repo
from validations.context import Period
from validations.engine import CheckResult, FilingStatus
from validations.prudential import discipline_list, evaluate, grade
from validations.prudential.rollup import period_rollup

IO_MANAGER = "filing_io_manager"

with warnings.catch_warnings():  # beta in Dagster 1.13; the documented way to roll filings up by period
    warnings.simplefilter("ignore")
    _BY_PERIOD = MultiToSingleDimensionPartitionMapping(PERIOD)


def result_of_record(accepted: TableBundle, findings: pa.Table, registry: dict) -> CheckResult:
    """Phase 4 of the filing of record, recomputed from its accepted tables (the engine ran it too, on the
    submission; recomputing keeps this right when the filing of record is an earlier submission)."""
    meta = accepted.meta
    institution = registry[meta["institution_id"]]
    tables = accepted.tables
    phase4 = evaluate(tables["guarantees"], tables["financials"], tables.get("compensations"), institution,
                      Period.parse(meta["period"]))
    graded = phase4.grade(findings)
    return CheckResult(
        institution_id=meta["institution_id"], period=meta["period"], template_version=meta.get("template_version"),
        status=FilingStatus.ACCEPTED, findings=findings, phases_run=[1, 2, 3, 4], tables=tables,
        institution=institution, indicators=phase4.indicators, grade=graded.grade,
        extras={"subsidies": phase4.subsidies, "grade": graded},
    )


@asset(
    partitions_def=filing_partitions,
    group_name="prudential",
    io_manager_key=IO_MANAGER,
    kinds={"parquet"},
    description=(
        "Indicators, findings, grade (with its measures) and subsidies of the guarantor's filing of record, "
        "published as versioned datasets (outputs.md §2) with resident IDs pseudonymised."
    ),
)
def filing_results(
    context: AssetExecutionContext, accepted_filing: TableBundle, store: StoreResource, datasets: DatasetsResource
) -> Output[TableBundle]:
    period, guarantor = split_key(context.partition_key)
    submission_id = int(accepted_filing.meta["submission_id"])
    with store.session() as session:
        registry = registry_snapshot(session)
        findings = repo.findings_table(session, submission_id)
    result = result_of_record(accepted_filing, findings, registry)
    key = datasets.key()
    graded = result.extras["grade"]
    tables = {
        "indicators": indicators_table(result, submission_id, key),
        "findings": findings_table(result, submission_id, key),
        "grades": grades_table(guarantor, period, graded.grade, graded.measures_zh, graded.measures_en,
                               graded.reasons, submission_id, late=False),
        "subsidies": subsidies_table(result, submission_id),
        "guarantees": guarantees_table(result, submission_id, key),
    }
    store_ = datasets.store()
    source = {"submission_id": submission_id, "sequence": accepted_filing.meta.get("sequence")}
    versions = {name: store_.write(name, period, table, institution_id=guarantor, source=source).version
                for name, table in tables.items()}
    return Output(
        TableBundle({**accepted_filing.meta, "grade": graded.grade, "dataset_versions": versions},
                    {name: tables[name] for name in ("indicators", "grades", "subsidies")}),
        metadata={
            "grade": graded.grade,
            "measures": graded.measures_en,
            "leverage_ratio": result.indicators.get("leverage_ratio"),
            "subsidy_amount": result.indicators.get("subsidy_amount"),
            "dataset_versions": MetadataValue.json(versions),
        },
    )


@asset(
    partitions_def=period_partitions,
    group_name="prudential",
    io_manager_key=IO_MANAGER,
    kinds={"parquet"},
    deps=[AssetDep("filing_results", partition_mapping=_BY_PERIOD), "late_filings"],
    description=(
        "Every active guarantor's grade for the period: from its published filing of record, or D with the "
        "measures of rules.md §5 when it had no accepted filing by the deadline; late filers' grades published."
    ),
)
def period_grades(
    context: AssetExecutionContext, store: StoreResource, datasets: DatasetsResource
) -> Output[TableBundle]:
    period = context.partition_key
    store_ = datasets.store()
    with store.session() as session:
        active = [i.institution_id for i in repo.list_institutions(session, status="active")]
        late = {row.institution_id for row in repo.list_late_filings(session, period)}
    published = store_.read("grades", period)
    graded = {} if published is None else dict(zip(published["institution_id"].to_pylist(),
                                                  published["grade"].to_pylist(), strict=True))
    no_filing = grade(None)
    for institution_id in sorted(late):
        table = grades_table(institution_id, period, no_filing.grade, no_filing.measures_zh, no_filing.measures_en,
                             no_filing.reasons, None, late=True)
        store_.write("grades", period, table, institution_id=institution_id, source={"late_filing": True})
        graded[institution_id] = "D"
    missing = sorted(set(active) - set(graded))
    table = pa.table({
        "institution_id": pa.array(sorted(graded), pa.string()),
        "grade": pa.array([graded[i] for i in sorted(graded)], pa.string()),
        "late_filing": pa.array([i in late for i in sorted(graded)], pa.bool_()),
    })
    counts = {g: sum(1 for v in graded.values() if v == g) for g in "ABCD"}
    return Output(
        TableBundle({"period": period, "distribution": counts, "not_yet_graded": missing}, {"grades": table}),
        metadata={"distribution": MetadataValue.json(counts), "late": len(late), "not_yet_graded": len(missing)},
    )


@asset(
    partitions_def=period_partitions,
    group_name="prudential",
    io_manager_key=IO_MANAGER,
    kinds={"parquet"},
    deps=["period_grades"],
    description="Guarantors graded D in this period and the one before: the published joint-discipline list.",
)
def discipline(context: AssetExecutionContext, datasets: DatasetsResource) -> Output[TableBundle]:
    period = Period.parse(context.partition_key)
    store_ = datasets.store()
    by_period = {}
    for p in (period.previous(), period):
        table = store_.read("grades", str(p))
        by_period[str(p)] = {} if table is None else dict(
            zip(table["institution_id"].to_pylist(), table["grade"].to_pylist(), strict=True))
    entries = [(e.institution_id, str(e.previous), str(e.period)) for e in discipline_list(by_period)
               if str(e.period) == str(period)]
    table = discipline_table(str(period), entries)
    version = store_.write("discipline_list", str(period), table, source={"periods": sorted(by_period)})
    return Output(TableBundle({"period": str(period), "listed": len(entries)}, {"discipline_list": table}),
                  metadata={"listed": len(entries), "dataset_version": version.version,
                            "institutions": MetadataValue.json([e[0] for e in entries])})


@asset(
    partitions_def=period_partitions,
    group_name="prudential",
    io_manager_key=IO_MANAGER,
    kinds={"parquet"},
    deps=["period_grades"],
    description=(
        "The period's district roll-up from the published datasets: 小微/三农 household share against the 75% "
        "target (government guarantors, POL-001's population), subsidies by program, grade distribution."
    ),
)
def district_rollup(
    context: AssetExecutionContext, store: StoreResource, datasets: DatasetsResource
) -> Output[TableBundle]:
    period = context.partition_key
    store_ = datasets.store()
    indicators = store_.read("indicators", period)
    grades = store_.read("grades", period)
    if indicators is None:
        indicators = pa.table({"institution_id": pa.array([], pa.string())})
    if grades is None:
        grades = pa.table({"grade": pa.array([], pa.string())})
    with store.session() as session:
        governments = [i.institution_id for i in repo.list_institutions(session) if str(i.kind) == "government"]
    summary = period_rollup(indicators, grades, government_ids=governments)
    return Output(TableBundle({"period": period, **summary}, {"rollup": pa.Table.from_pylist([
        {k: v for k, v in summary.items() if not isinstance(v, dict)}])}),
        metadata={k: MetadataValue.json(v) if isinstance(v, dict) else v for k, v in summary.items()})


FILING_ASSETS = [filing_results]
PERIOD_ASSETS = [period_grades, discipline, district_rollup]
