"""Published datasets for regulators (outputs.md §2): versioned Parquet, partitioned by period."""

from connectors.datasets.pseudonymise import (
    mask_person_names,
    pseudonym_key,
    pseudonymise_party_ids,
    pseudonymise_resident_ids,
)
from connectors.datasets.store import DATASETS, SCHEMA_VERSION, DatasetStore, PartitionVersion

__all__ = [
    "DATASETS", "SCHEMA_VERSION", "DatasetStore", "PartitionVersion",
    "mask_person_names", "pseudonym_key", "pseudonymise_party_ids", "pseudonymise_resident_ids",
]  # fmt: skip
