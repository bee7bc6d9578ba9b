"""End to end, accepted filings publish their indicators, findings, grade, subsidies and ledger as
versioned datasets; the period job grades every guarantor (late filers D), lists D-twice guarantors for
joint discipline, and rolls the district up."""

from __future__ import annotations

import pyarrow.compute as pc
import pytest

from connectors.datasets import DatasetStore
from pipelines.partitions import filing_key
from tests.pipelines.helpers import archive
from validations.context import Period


@pytest.fixture(autouse=True)
def _datasets_env(monkeypatch):
    monkeypatch.delenv("DANBAO_DATASETS_DIR", raising=False)
    monkeypatch.setenv("DANBAO_PSEUDONYM_KEY", "pipeline-test-key-0123456789")


def test_filings_publish_datasets_and_the_period_grades_everyone(pipeline, generated):
    ids, period = generated.ids(), generated.period
    previous = str(Period.parse(period).previous())
    pipeline.drop(generated.clean[0])
    pipeline.drop(generated.clean[1])
    pipeline.drop(generated.rejected[2])  # rejected: no accepted filing, so late; ids[3] files nothing
    launched = pipeline.runner.intake(settle_seconds=0)
    assert sorted(r.success for r in launched) == [False, True, True]

    datasets = DatasetStore(pipeline.home / "datasets")
    for guarantor in ids[:2]:
        assert pipeline.materialized("filing_results", filing_key(period, guarantor)) == 1
        for name in ("indicators", "findings", "grades", "subsidies", "guarantees"):
            assert datasets.latest(name, period, guarantor).version == 1, name
    # the published ledger hides resident IDs; the accepted filing (kept for the regulator's store) has them
    accepted = archive(pipeline.home).accepted(period, ids[0]).tables["guarantees"]
    rics = set(pc.filter(accepted["party_id"], pc.equal(accepted["party_id_type"], "RIC")).to_pylist())
    published = datasets.read("guarantees", period, ids[0])
    assert rics and not rics & set(published["party_id"].to_pylist())
    assert published["source_row"].to_pylist() == list(range(1, accepted.num_rows + 1))

    # the month before: nobody filed, so everybody is late and graded D
    assert pipeline.runner.run_job("period_job", partition_key=previous).success
    assert pipeline.runner.run_job("period_job", partition_key=period).success
    grades = datasets.read("grades", period)
    by_guarantor = dict(zip(grades["institution_id"].to_pylist(), grades["grade"].to_pylist(), strict=True))
    assert by_guarantor[ids[2]] == by_guarantor[ids[3]] == "D"
    assert by_guarantor[ids[0]] in "AB" and by_guarantor[ids[1]] in "AB"
    late = dict(zip(grades["institution_id"].to_pylist(), grades["late_filing"].to_pylist(), strict=True))
    assert late[ids[2]] and late[ids[3]] and not late[ids[0]]

    # D in two consecutive periods → the joint-discipline list (rules.md §5, (十一))
    listed = datasets.read("discipline_list", period)
    assert sorted(listed["institution_id"].to_pylist()) == sorted(ids[2:])
    assert set(listed["previous_period"].to_pylist()) == {previous}

    rollup = archive(pipeline.home).latest(archive(pipeline.home).partition("district_rollup", period))
    assert rollup.meta["grade_distribution"]["D"] == 2
    assert rollup.meta["guarantors"] == 2  # two published indicator rows


def test_accepted_filings_are_queued_and_the_delivery_job_delivers_them_once(pipeline, generated, monkeypatch, tmp_path):
    """Issue 5 through the graph: publication_outbox queues the feed files and report of each accepted
    filing; delivery_job sends them to the reference receivers on loopback, and a second run sends nothing."""
    from connectors.publish.signing import SigningKeys
    from connectors.receivers.run import Receivers

    monkeypatch.setenv("DANBAO_SIGNING_KEY", "delivery-test-key-0123456789")
    monkeypatch.setenv("DANBAO_PBOC_SM4_KEY", "0123456789abcdef0123456789abcdef")
    ids, period = generated.ids(), generated.period
    pipeline.drop(generated.clean[0])
    [run] = pipeline.runner.intake(settle_seconds=0)
    assert run.success and pipeline.materialized("publication_outbox", filing_key(period, ids[0])) == 1
    with Receivers(tmp_path / "receivers", keys=SigningKeys.from_env()) as receivers:
        monkeypatch.setenv("DANBAO_PBOC_URL", receivers.pboc_url)
        monkeypatch.setenv("DANBAO_CBRC_URL", receivers.cbrc_url)
        first = pipeline.runner.run_job("delivery_job", partition_key=period)
        assert first.success
        delivered = first.asset_materializations_for_node("deliveries")[0].metadata["delivered"].value
        assert delivered >= 2  # at least one credit-feed file and the report
        pboc, cbrc = receivers.pboc_store.holdings("pboc"), receivers.cbrc_store.holdings("cbrc")
        assert pboc and cbrc
        again = pipeline.runner.run_job("delivery_job", partition_key=period)
        assert again.asset_materializations_for_node("deliveries")[0].metadata["failed"].value == 0
        assert len(receivers.pboc_store.holdings("pboc")) == len(pboc)  # nothing sent twice
