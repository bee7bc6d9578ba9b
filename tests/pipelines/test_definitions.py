"""The code location as `dagster dev` loads it: the asset graph, its checks, jobs, schedules, sensors;
and loading it does no I/O and does not import Great Expectations."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

from dagster import AssetCheckKey, AssetKey, DynamicPartitionsDefinition, MultiPartitionsDefinition

from pipelines.definitions import defs

ROOT = Path(__file__).resolve().parents[2]
FILING_ASSETS = {"received_package", "validation_result", "accepted_filing", "filing_results",
                 "publication_outbox"}
PERIOD_ASSETS = {"late_filings", "period_grades", "discipline", "district_rollup", "deliveries"}
PHASE_CHECKS = {"phase_1_format", "phase_2_schema", "phase_3_consistency"}


def test_asset_graph_keys_checks_and_lineage():
    graph = defs.resolve_asset_graph()
    assert {k.to_user_string() for k in graph.get_all_asset_keys()} == FILING_ASSETS | PERIOD_ASSETS
    assert graph.asset_check_keys == {AssetCheckKey(AssetKey("validation_result"), name) for name in PHASE_CHECKS}
    for name in PHASE_CHECKS:
        assert graph.get(AssetCheckKey(AssetKey("validation_result"), name)).blocking
    chain = ["received_package", "validation_result", "accepted_filing", "filing_results"]
    for upstream, downstream in itertools.pairwise(chain):
        assert AssetKey(upstream) in graph.get(AssetKey(downstream)).parent_keys
    assert AssetKey("accepted_filing") in graph.get(AssetKey("late_filings")).parent_keys
    # the period's grades read every filing's results and the late filers
    assert {AssetKey("filing_results"), AssetKey("late_filings")} <= graph.get(AssetKey("period_grades")).parent_keys
    for name in ("discipline", "district_rollup"):
        assert AssetKey("period_grades") in graph.get(AssetKey(name)).parent_keys

    partitions = graph.get(AssetKey("validation_result")).partitions_def
    assert isinstance(partitions, MultiPartitionsDefinition)
    dims = {d.name: d.partitions_def for d in partitions.partitions_defs}
    assert set(dims) == {"period", "guarantor"}
    assert isinstance(dims["guarantor"], DynamicPartitionsDefinition) and dims["guarantor"].name == "guarantor"
    assert "2026-10" in dims["period"].get_partition_keys()
    assert graph.get(AssetKey("late_filings")).partitions_def == dims["period"]


def test_jobs_schedules_sensors_and_resources():
    filing_job = defs.resolve_job_def("filing_job")
    assert {k.to_user_string() for k in filing_job.asset_layer.selected_asset_keys} == FILING_ASSETS
    assert filing_job.executor_def.name == "in_process"
    for name in ("period_job", "late_filings_job", "pull_job", "triage_job"):
        defs.resolve_job_def(name)
    assert defs.resolve_schedule_def("pull_schedule").cron_schedule == "0 8 1-15 * *"
    assert defs.resolve_schedule_def("late_filings_schedule").cron_schedule == "30 0 16 * *"
    assert defs.resolve_schedule_def("pull_schedule").execution_timezone == "Asia/Shanghai"
    assert {s.name for s in defs.sensors} == {"intake_sensor", "guarantor_partitions_sensor"}
    assert set(defs.resources) >= {"store", "landing", "pull", "archive", "filing_io_manager"}


LOAD_SCRIPT = r"""
import json, os, socket, sys
def refuse(*args, **kwargs):
    raise AssertionError(f"network I/O while loading: {args!r}")
socket.socket.connect = refuse
socket.create_connection = refuse
import pipelines.definitions as module
defs = module.defs
graph = defs.resolve_asset_graph()
for name in ("filing_job", "period_job", "late_filings_job", "pull_job", "triage_job", "delivery_job"):
    defs.resolve_job_def(name)
print(json.dumps({
    "great_expectations": sorted(m for m in sys.modules if m.split(".")[0] == "great_expectations"),
    "assets": len(graph.get_all_asset_keys()),
    "pull_cron": defs.resolve_schedule_def("pull_schedule").cron_schedule,
    "late_cron": defs.resolve_schedule_def("late_filings_schedule").cron_schedule,
}))
"""


def test_loading_does_no_io_and_keeps_great_expectations_out(tmp_path):
    env = {
        **os.environ,
        "PYTHONDONTWRITEBYTECODE": "1",
        "DANBAO_HOME": str(tmp_path / "danbao-home"),
        "DAGSTER_HOME": str(tmp_path / "dagster-home"),
        "DANBAO_DATABASE_URL": "postgresql://nobody:secret@192.0.2.1:5432/never",  # unreachable: must not be tried
        "DANBAO_DEADLINE_DAY": "20",
    }
    before = sorted(p.name for p in tmp_path.iterdir())
    done = subprocess.run([sys.executable, "-c", LOAD_SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["great_expectations"] == []
    assert report["assets"] == len(FILING_ASSETS | PERIOD_ASSETS)
    assert (report["pull_cron"], report["late_cron"]) == ("0 8 1-20 * *", "30 0 21 * *")  # the configured deadline
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no DANBAO_HOME, no DAGSTER_HOME created


SNAPSHOT = Path(__file__).with_name("definitions.snapshot.json")


def definitions_snapshot() -> dict:
    """The shape of the code location: asset keys with their group, partitions, parents, checks and
    descriptions; jobs with their selection and description; schedules and sensors."""
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "partitions": type(node.partitions_def).__name__ if node.partitions_def else None,
            "parents": sorted(k.to_user_string() for k in node.parent_keys),
            "checks": sorted(c.name for c in graph.asset_check_keys if c.asset_key == key),
            "description": node.description,
        }
    jobs = {}
    for job in sorted(defs.resolve_all_job_defs(), key=lambda j: j.name):
        if job.name.startswith("__"):
            continue
        selected = job.asset_layer.selected_asset_keys if job.asset_layer else set()
        jobs[job.name] = {"assets": sorted(k.to_user_string() for k in selected), "description": job.description}
    return {
        "assets": assets,
        "jobs": jobs,
        "schedules": {s.name: {"cron": s.cron_schedule, "timezone": s.execution_timezone, "job": s.job_name,
                               "description": s.description} for s in sorted(defs.schedules, key=lambda s: s.name)},
        "sensors": {s.name: {"jobs": sorted(j.name for j in s.jobs) if s.has_jobs else [],
                             "description": s.description} for s in sorted(defs.sensors, key=lambda s: s.name)},
    }


def test_definitions_match_their_snapshot():
    """A change to the asset graph, a check, a job, a schedule or a sensor (or a description) is a
    reviewed change of tests/pipelines/definitions.snapshot.json: ``DANBAO_UPDATE_SNAPSHOT=1`` rewrites it."""
    current = definitions_snapshot()
    if os.environ.get("DANBAO_UPDATE_SNAPSHOT") == "1":
        SNAPSHOT.write_text(json.dumps(current, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    assert current == json.loads(SNAPSHOT.read_text(encoding="utf-8"))
