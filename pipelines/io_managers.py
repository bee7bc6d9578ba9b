"""The IO manager for filing assets: ``TableBundle`` ↔ versioned Parquet in the table archive.

Built on ``UPathIOManager`` so the archive can be a local folder (the default) or any fsspec URL. Paths
are ``<asset>/<period>/<guarantor>/<version>`` (``pipelines.archive``): a partition holds one version per
submission, so a resubmission never overwrites the tables of an earlier one, and assets marked
``danbao/write_once`` (the accepted filing) are never rewritten at all.

Which version an input loads: the one this run wrote (the same IO manager instance handles a run's
steps under the in-process executor), else the one of the run's ``danbao/sequence`` tag, else the
latest, which for ``accepted_filing`` is the guarantor's filing of record.
"""


from typing import Any

from dagster import (
    ConfigurableIOManagerFactory,
    InputContext,
    MultiPartitionsDefinition,
    OutputContext,
    ResourceDependency,
    UPathIOManager,
)
from upath import UPath

from pipelines.archive import ArchiveExistsError, FilingArchive, TableBundle
from pipelines.partitions import SEQUENCE_TAG
from pipelines.resources import ArchiveResource

WRITE_ONCE = "danbao/write_once"


class FilingIOManager(UPathIOManager):
    def __init__(self, archive: FilingArchive) -> None:
        super().__init__(base_path=archive.root)
        self.archive = archive
        self._written: dict[tuple[str, str], int] = {}  # (run id, partition dir) → version

    def get_path_for_partition(self, context: InputContext | OutputContext, path: UPath, partition: str) -> UPath:
        """``<asset>/<period>/<guarantor>``: period first, so a period's filings sit in one folder."""
        partitions_def = context.asset_partitions_def
        if isinstance(partitions_def, MultiPartitionsDefinition):
            names = sorted(d.name for d in partitions_def.partitions_defs)  # Dagster's order in ``partition``
            keys = dict(zip(names, partition.split("/"), strict=True))
            return path / keys["period"] / keys["guarantor"]
        return path / partition

    def dump_to_path(self, context: OutputContext, obj: TableBundle, path: UPath) -> None:
        if not isinstance(obj, TableBundle):
            raise TypeError(f"{context.asset_key.to_user_string()}: expected a TableBundle, got {type(obj).__name__}")
        write_once = bool((context.definition_metadata or {}).get(WRITE_ONCE))
        version = obj.version if obj.version is not None else self.archive.next_version(path)
        try:
            target = self.archive.write(path, obj, version=version, write_once=write_once)
        except ArchiveExistsError:
            target = self.archive.version_dir(path, version)
            context.log.info(f"{target} is already archived (write-once); kept as it was")
        self._written[(context.run_id, str(path))] = version
        context.add_output_metadata({"version": version, "version_path": str(target)})

    def load_from_path(self, context: InputContext, path: UPath) -> TableBundle:
        version = self._written.get((context.step_context.run_id, str(path)))
        if version is None:
            tagged = context.step_context.dagster_run.tags.get(SEQUENCE_TAG)
            if tagged and tagged.isdigit() and int(tagged) in self.archive.versions(path):
                version = int(tagged)
        if version is None:
            versions = self.archive.versions(path)
            if not versions:
                raise FileNotFoundError(f"nothing archived at {path}")
            version = versions[-1]
        return self.archive.read(self.archive.version_dir(path, version))

    def path_exists(self, path: UPath) -> bool:
        return bool(self.archive.versions(path))


class FilingIOManagerFactory(ConfigurableIOManagerFactory):
    """Versioned Parquet in the table archive (``ArchiveResource``)."""

    archive: ResourceDependency[ArchiveResource]

    def create_io_manager(self, context: Any) -> FilingIOManager:
        return FilingIOManager(self.archive.archive())
