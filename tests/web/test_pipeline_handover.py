"""Without inline validation the portal hands an upload to the Dagster graph: the submission is recorded
as ``received`` (bytes in the blob store), the ``intake_sensor`` starts its filing run like for any other
door, and the validation result flows back into the state the portal shows."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dagster import DagsterInstance

from tests.packages import GOV_ID
from tests.web.conftest import PERIOD, Live, as_json, fresh_zip, start_live


@pytest.fixture(scope="module")
def live_dagster(request, tmp_path_factory, published) -> Iterator[Live]:
    yield from start_live(request, tmp_path_factory.mktemp("portal-dagster"), published, "sqlite",
                          inline_validation=False)


def test_an_upload_is_validated_by_the_dagster_graph(live_dagster, tmp_path, monkeypatch):
    from pipelines.partitions import filing_key
    from pipelines.resources import ArchiveResource, StoreResource, dispose_engines
    from tests.pipelines.conftest import make_pipeline

    live = live_dagster
    receipt = as_json(live.upload(fresh_zip(tmp_path)))
    assert receipt["state"] == "received"  # recorded, not validated: that is the graph's job
    home = tmp_path / "home"
    monkeypatch.setenv("DANBAO_HOME", str(home))
    monkeypatch.setenv("DANBAO_RUN_LAYOUT", "per_submission")
    store = StoreResource(database_url=live.portal.settings.database_url, blob_root=str(live.blob_root))
    pipeline = make_pipeline(home, DagsterInstance.ephemeral(), None, store=store,
                             archive=ArchiveResource(url=live.portal.settings.tables_url))
    try:
        [run] = pipeline.runner.tick()
        assert run.success and run.submission_id == receipt["submission_id"]
        assert run.partition_key == filing_key(PERIOD, GOV_ID)
        detail = as_json(live.get(f"/api/submissions/{receipt['submission_id']}", "a"))
        assert detail["state"] == "needs_confirmation" and detail["warnings"]["outstanding"] == 2
        assert pipeline.runner.tick() == []  # one run per submission
    finally:
        dispose_engines()
