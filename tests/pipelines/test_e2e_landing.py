"""End to end through the Dagster definitions: landing folder → submissions → filing runs.

Runs execute in-process on a throw-away instance, through the same sensor and jobs as ``dagster dev``.
"""

from __future__ import annotations

from pipelines.partitions import GUARANTOR, filing_key
from store import repository as repo
from store.models import SubmissionSource, SubmissionState
from tests.pipelines.helpers import archive, check_results, materialized_in_run, with_manifest

FILING_ASSETS = ["accepted_filing", "filing_results", "publication_outbox", "received_package",
                 "validation_result"]
PHASES = {"phase_1_format", "phase_2_schema", "phase_3_consistency"}


def test_landing_packages_are_picked_up_once_and_validated(persistent_pipeline, generated):
    pipeline = persistent_pipeline
    ids = generated.ids()
    pipeline.drop(generated.clean[0])
    pipeline.drop(generated.folders[1])
    (pipeline.landing / "upload.zip.part").write_bytes(generated.clean[2].read_bytes()[:1000])  # still uploading

    assert pipeline.runner.tick() == []  # first look: nothing is picked up yet
    assert pipeline.submissions() == []
    launched = pipeline.runner.tick()

    assert sorted(run.partition_key for run in launched) == sorted(
        [filing_key(generated.period, ids[0]), filing_key(generated.period, ids[1])]
    )
    assert all(run.success for run in launched)
    assert sorted((s.institution_id, s.sequence, s.source, s.state) for s in pipeline.submissions()) == sorted([
        (ids[0], 1, SubmissionSource.LANDING, SubmissionState.ACCEPTED),
        (ids[1], 1, SubmissionSource.LANDING, SubmissionState.ACCEPTED),
    ])
    for run in launched:
        assert materialized_in_run(pipeline.instance, run.run_id) == FILING_ASSETS
        assert check_results(pipeline.instance, run.run_id) == dict.fromkeys(PHASES, True)
    accepted = archive(pipeline.home).accepted(generated.period, ids[0])
    assert accepted.meta["sequence"] == 1
    assert accepted.tables["guarantees"].num_rows == 40
    assert accepted.tables["guarantees"].schema.field("guaranteed_amount").type != "string"  # typed
    assert set(pipeline.instance.get_dynamic_partitions(GUARANTOR)) >= {ids[0], ids[1]}

    assert pipeline.runner.tick() == [] and pipeline.runner.tick() == []  # picked up once
    assert len(pipeline.submissions()) == 2


def test_a_rejected_filing_blocks_everything_downstream(pipeline, generated):
    guarantor = generated.ids()[2]
    pipeline.drop(generated.rejected[2])
    [run] = pipeline.runner.intake(settle_seconds=0)

    assert not run.success  # the blocking checks fail the run
    assert materialized_in_run(pipeline.instance, run.run_id) == ["received_package", "validation_result"]
    assert check_results(pipeline.instance, run.run_id) == {
        "phase_1_format": True, "phase_2_schema": False, "phase_3_consistency": False,
    }
    assert pipeline.materialized("accepted_filing", filing_key(generated.period, guarantor)) == 0
    [submission] = pipeline.submissions()
    assert submission.state == SubmissionState.REJECTED and submission.finding_counts["error"] > 0
    result = archive(pipeline.home).latest(archive(pipeline.home).partition("validation_result", generated.period, guarantor))
    assert result.meta["status"] == "rejected"
    assert set(result.tables["findings"]["rule_id"].to_pylist()) == {"SCH-003"}
    assert "guarantees" not in result.tables  # no typed tables from a rejected filing
    assert archive(pipeline.home).accepted(generated.period, guarantor) is None


def test_resubmission_replaces_the_accepted_filing_only_once_accepted(pipeline, generated):
    guarantor = generated.ids()[0]
    store_archive = archive(pipeline.home)

    def resubmit(package, name):
        pipeline.drop(package, name)
        [run] = pipeline.runner.intake(settle_seconds=0)
        return run

    first = resubmit(generated.clean[0], "v1.zip")
    assert first.success
    warned = resubmit(generated.warned[0], "v2.zip")  # warnings only: needs confirmation
    assert warned.success
    assert materialized_in_run(pipeline.instance, warned.run_id) == ["received_package", "validation_result"]
    assert store_archive.accepted(generated.period, guarantor).meta["sequence"] == 1
    rejected = resubmit(generated.rejected[0], "v3.zip")
    assert not rejected.success
    assert store_archive.accepted(generated.period, guarantor).meta["sequence"] == 1
    corrected = resubmit(generated.folders[0], "v4")  # the corrected package, as a folder this time
    assert corrected.success

    states = [(s.sequence, s.state) for s in pipeline.submissions(institution_id=guarantor)]
    assert states == [(1, SubmissionState.ACCEPTED), (2, SubmissionState.NEEDS_CONFIRMATION),
                      (3, SubmissionState.REJECTED), (4, SubmissionState.ACCEPTED)]
    directory = store_archive.partition("accepted_filing", generated.period, guarantor)
    assert store_archive.versions(directory) == [1, 4]  # the first accepted version is still there
    assert store_archive.accepted(generated.period, guarantor).meta["sequence"] == 4
    validation_dir = store_archive.partition("validation_result", generated.period, guarantor)
    assert store_archive.versions(validation_dir) == [1, 2, 3, 4]  # one per submission, none overwritten


def test_unpartitionable_submissions_are_validated_by_the_triage_job(pipeline, generated, tmp_path):
    garbled = with_manifest(generated.clean[3], tmp_path / "garbled.zip", institution_id="not-a-uscc")
    ancient = with_manifest(generated.clean[2], tmp_path / "ancient.zip", period="2019-03")
    pipeline.drop(garbled)
    pipeline.drop(ancient)
    launched = pipeline.runner.intake(settle_seconds=0)

    assert sorted(run.job_name for run in launched) == ["triage_job", "triage_job"]
    assert all(run.success for run in launched)  # the run worked; the filings are rejected
    by_id = {s.institution_id: s for s in pipeline.submissions()}
    with pipeline.store.session() as session:
        rules = {i: {f["rule_id"] for f in repo.load_findings(session, s.id)} for i, s in by_id.items()}
    assert by_id["not-a-uscc"].state == SubmissionState.REJECTED
    assert rules["not-a-uscc"] == {"FMT-001", "FMT-006"}  # not in the registry (and not a USCC)
    ancient = by_id[generated.ids()[2]]
    assert ancient.period == "2019-03" and ancient.state == SubmissionState.REJECTED
    assert "BIZ-004" in rules[generated.ids()[2]]  # its guarantees start after the period it claims
    assert "not-a-uscc" not in pipeline.instance.get_dynamic_partitions(GUARANTOR)


def test_the_table_archive_can_be_any_fsspec_url(danbao_env, generated):
    from dagster import DagsterInstance

    from connectors.archive import FilingArchive
    from pipelines.io_managers import FilingIOManager
    from pipelines.resources import ArchiveResource
    from tests.pipelines.conftest import make_pipeline

    url = f"memory://danbao-{danbao_env.parent.name}/tables"
    archive_resource = ArchiveResource(url=url)
    pipeline = make_pipeline(danbao_env, DagsterInstance.ephemeral(), generated.registry_csv, archive=archive_resource,
                             filing_io_manager=FilingIOManager(archive=archive_resource))
    pipeline.drop(generated.clean[3])
    [run] = pipeline.runner.intake(settle_seconds=0)
    assert run.success
    accepted = FilingArchive(url).accepted(generated.period, generated.ids()[3])
    assert accepted is not None and accepted.tables["guarantees"].num_rows == 40
    assert not (danbao_env / "tables").exists()  # nothing went to the local default


def test_a_confirmed_filing_becomes_the_filing_of_record(pipeline, generated):
    from filings.confirmation import confirm_submission

    guarantor = generated.ids()[1]
    pipeline.drop(generated.warned[1])
    [run] = pipeline.runner.intake(settle_seconds=0)
    [submission] = pipeline.submissions()
    assert run.success and submission.state == SubmissionState.NEEDS_CONFIRMATION
    assert archive(pipeline.home).accepted(generated.period, guarantor) is None
    with pipeline.store.session() as session:
        findings = repo.count_findings(session, submission.id)
        confirm_submission(session, submission.id)  # the guarantor confirms its warnings in the portal
    # … and the intake sensor runs the submission once more, now that it is accepted
    [again] = pipeline.runner.tick()
    assert again.success and again.partition_key == run.partition_key
    assert pipeline.runner.tick() == []  # once
    assert "accepted_filing" in materialized_in_run(pipeline.instance, again.run_id)
    assert archive(pipeline.home).accepted(generated.period, guarantor).meta["sequence"] == 1
    [submission] = pipeline.submissions()
    assert submission.state == SubmissionState.ACCEPTED
    with pipeline.store.session() as session:
        assert repo.count_findings(session, submission.id) == findings  # the warnings stay on record, once


def test_biz_010_compares_with_the_previous_periods_accepted_filing(pipeline, generated, tmp_path):
    from connectors.intake import read_package
    from connectors.registry import read_registry_csv
    from connectors.synthetic import generate_period
    from validations.context import Period
    from validations.engine import validate

    guarantor = generated.ids()[0]
    before = str(Period.parse(generated.period).previous())
    earlier = generate_period(tmp_path / "earlier", 4, 40, before, zip=True)  # same seed: same guarantors
    pipeline.drop(earlier[0])
    [first] = pipeline.runner.intake(settle_seconds=0)
    assert first.success
    pipeline.drop(generated.clean[0])
    assert len(pipeline.runner.intake(settle_seconds=0)) == 1

    store_archive = archive(pipeline.home)
    result = store_archive.latest(store_archive.partition("validation_result", generated.period, guarantor))
    assert result.meta["previous_accepted"] == f"{before}#1"
    previous = store_archive.accepted(before, guarantor).tables["guarantees"]
    expected = validate(read_package(generated.clean[0]), read_registry_csv(generated.registry_csv),
                        previous_guarantees=previous)
    assert result.meta["status"] == str(expected.status)
    assert sorted(result.tables["findings"]["rule_id"].to_pylist()) == sorted(expected.findings["rule_id"].to_pylist())
    assert "BIZ-010" in result.tables["findings"]["rule_id"].to_pylist()  # synthetic periods do not carry over
