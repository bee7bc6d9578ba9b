"""Phase-4 assets: per filing, the indicators, findings, grade and subsidies of the filing of
record, published as versioned datasets; per period, the grades of every guarantor (late filers graded
D), the joint-discipline list and the district roll-up.

Phase 4 itself ran once, in the rule engine, when the submission was validated; these assets hand its
typed result on (``filings.datasets``) and roll the period up.
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

from connectors.archive import TableBundle
from connectors.archive.results import accepted_filing_of
from connectors.datasets.tables import (
    discipline_table,
    grades_table,
)
from filings.datasets import publish_datasets
from filings.lifecycle import datasets_published
from pipelines.partitions import PERIOD, filing_partitions, period_partitions
from pipelines.resources import DatasetsResource, StoreResource
from store import repository as repo
from validations.context import Period
from validations.prudential import discipline_list, grade
from validations.prudential.rollup import period_rollup

IO_MANAGER = "filing_io_manager"

with warnings.catch_warnings():  # beta in Dagster 1.13; the documented way to roll filings up by period
    warnings.simplefilter("ignore")
    _BY_PERIOD = MultiToSingleDimensionPartitionMapping(PERIOD)


@asset(
    partitions_def=filing_partitions,
    group_name="prudential",
    io_manager_key=IO_MANAGER,
    kinds={"parquet"},
    description=(
        "Indicators, findings, grade (with its measures) and subsidies of the accepted filing, as the engine "
        "concluded them at validation, published as versioned datasets (outputs.md §2), resident IDs pseudonymised."
    ),
)
def filing_results(
    context: AssetExecutionContext, accepted_filing: TableBundle, store: StoreResource, datasets: DatasetsResource
) -> Output[TableBundle]:
    filing = accepted_filing_of(accepted_filing)
    versions = publish_datasets(datasets.store(), datasets.key(), filing)
    with store.session() as session:
        datasets_published(session, filing.submission_id)
    graded = filing.grade
    return Output(
        TableBundle({"submission_id": filing.submission_id, "sequence": filing.sequence, "grade": graded.grade,
                     "dataset_versions": versions}),
        metadata={
            "grade": graded.grade,
            "measures": graded.measures_en,
            "leverage_ratio": filing.indicators.get("leverage_ratio"),
            "subsidy_amount": filing.indicators.get("subsidy_amount"),
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
