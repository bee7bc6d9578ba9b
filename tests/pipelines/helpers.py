"""Reading what a run did from the Dagster instance and the archive."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from dagster import DagsterEventType, DagsterInstance

from connectors.archive import FilingArchive


def check_results(instance: DagsterInstance, run_id: str) -> dict[str, bool]:
    """check name → passed, for the asset checks evaluated in ``run_id``."""
    results = {}
    for record in instance.all_logs(run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION):
        data = record.dagster_event.event_specific_data
        results[data.check_name] = data.passed
    return results


def materialized_in_run(instance: DagsterInstance, run_id: str) -> list[str]:
    return sorted(
        record.dagster_event.asset_key.to_user_string()
        for record in instance.all_logs(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION)
    )


def archive(home: Path) -> FilingArchive:
    return FilingArchive(home / "tables")


def with_manifest(package: Path, target: Path, **changes: str) -> Path:
    """A copy of a ZIP package with manifest keys changed (data files untouched)."""
    source = zipfile.ZipFile(package)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "manifest.json":
                manifest = json.loads(data)
                manifest.update(changes)
                data = json.dumps(manifest, ensure_ascii=False).encode()
            out.writestr(info.filename, data)
    target.write_bytes(buffer.getvalue())
    return target
