"""The table archive: an asset partition's Arrow tables kept as versioned, write-once Parquet."""

from connectors.archive.store import ArchiveExistsError, FilingArchive, TableBundle

__all__ = ["ArchiveExistsError", "FilingArchive", "TableBundle"]
