"""A filing's published datasets (outputs.md §2), from what the engine concluded about it."""

from __future__ import annotations

from connectors.datasets import DatasetStore
from connectors.datasets.tables import (
    compensations_table,
    findings_table,
    grades_table,
    guarantees_table,
    indicators_table,
    subsidies_table,
)
from validations.results import AcceptedFiling


def publish_datasets(store: DatasetStore, key: bytes, filing: AcceptedFiling) -> dict[str, int]:
    """Write the filing's indicators, findings, grade, subsidies, ledger and payouts as the next version of each
    of its partitions (identical content writes nothing); returns dataset → version."""
    graded, submission_id = filing.grade, filing.submission_id
    tables = {
        "indicators": indicators_table(filing, submission_id, key),
        "findings": findings_table(filing, submission_id, key),
        "grades": grades_table(filing.institution_id, filing.period, graded.grade, graded.measures_zh,
                               graded.measures_en, graded.reasons, submission_id, late=False),
        "subsidies": subsidies_table(filing, submission_id),
        "guarantees": guarantees_table(filing, submission_id, key),
        "compensations": compensations_table(filing, submission_id),
    }
    source = {"submission_id": submission_id, "sequence": filing.sequence}
    return {name: store.write(name, filing.period, table, institution_id=filing.institution_id, source=source).version
            for name, table in tables.items()}
