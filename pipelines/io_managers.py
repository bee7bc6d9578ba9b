"""The IO manager for filing and period assets: ``TableBundle`` ↔ the versioned table archive.

Paths are ``<asset>/<period>/<guarantor>/v=NNNN`` (``connectors.archive``): a partition holds one
version per submission or materialization, so nothing is overwritten, and assets marked
``danbao/write_once`` (the accepted filing, versioned by submission sequence) are never rewritten.

A validation result is archived by the application itself (``filings.validation``, whichever door
validated it); its bundle comes back marked ``archived`` and is not written again. Within a run, an
output is handed to the next step as it is (no read back); a later run (a confirmed or inline-validated
submission's datasets and deliveries) reads the version of its ``danbao/sequence`` tag, else the latest,
which for ``accepted_filing`` is the guarantor's filing of record.
"""

from typing import Any

from dagster import ConfigurableIOManager, InputContext, OutputContext, ResourceDependency

from connectors.archive import ArchiveExistsError, FilingArchive, TableBundle
from connectors.archive.store import ACCEPTED, VALIDATION
from pipelines.partitions import SEQUENCE_TAG, split_key
from pipelines.resources import ArchiveResource

WRITE_ONCE = "danbao/write_once"

#: (run id, asset, partition) → the bundle a step of that run produced: handed on without a read.
_PRODUCED: dict[tuple[str, str, str], TableBundle] = {}
_KEPT_RUNS = 64


def _where(asset: str, partition_key: Any) -> tuple[str, str | None]:
    """(period, guarantor) of a filing partition, (period, None) of a period partition."""
    text = str(partition_key)
    if "|" in text or hasattr(partition_key, "keys_by_dimension"):
        return split_key(partition_key)
    return text, None


class FilingIOManager(ConfigurableIOManager):
    """Versioned Parquet in the table archive (``ArchiveResource``)."""

    archive: ResourceDependency[ArchiveResource]

    def _archive(self) -> FilingArchive:
        return self.archive.archive()

    def handle_output(self, context: OutputContext, obj: TableBundle) -> None:
        asset = context.asset_key.to_user_string()
        if not isinstance(obj, TableBundle):
            raise TypeError(f"{asset}: expected a TableBundle, got {type(obj).__name__}")
        period, guarantor = _where(asset, context.partition_key)
        archive = self._archive()
        partition = archive.partition(asset, period, guarantor)
        if obj.archived is None:
            number = obj.sequence if (context.definition_metadata or {}).get(WRITE_ONCE) else None
            try:
                obj.archived = archive.write(partition, obj, number=number).number
            except ArchiveExistsError:
                obj.archived = number
                context.log.info(f"{partition} v={number} is already archived (write-once); kept as it was")
        if len({k[0] for k in _PRODUCED}) > _KEPT_RUNS:
            _PRODUCED.clear()
        _PRODUCED[(context.run_id, asset, str(context.partition_key))] = obj
        context.add_output_metadata({"version": obj.archived, "partition_path": partition})

    def load_input(self, context: InputContext) -> TableBundle:
        asset = context.asset_key.to_user_string()
        run = context.step_context.dagster_run
        key = context.asset_partition_key
        produced = _PRODUCED.get((run.run_id, asset, str(key)))
        if produced is not None:
            return produced
        period, guarantor = _where(asset, key)
        archive = self._archive()
        tagged = run.tags.get(SEQUENCE_TAG)
        sequence = int(tagged) if tagged and tagged.isdigit() else None
        found = None
        if guarantor is not None and sequence is not None and asset == VALIDATION:
            found = archive.validation(period, guarantor, sequence)
        elif guarantor is not None and asset == ACCEPTED:
            found = archive.accepted(period, guarantor, sequence) if sequence is not None else None
            found = found or archive.accepted(period, guarantor)
        if found is None:
            found = archive.latest(archive.partition(asset, period, guarantor))
        if found is None:
            raise FileNotFoundError(f"nothing archived for {asset} {period} {guarantor or ''}")
        return found
