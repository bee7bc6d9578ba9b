"""A deadline-day burst through the intake sensor: picked up in one or two ticks, and when a tick's time
budget runs out, resumed from the cursor without losing or doubling a package."""

from __future__ import annotations

import io
import itertools
import json
import time
import types
import zipfile
from collections import defaultdict
from pathlib import Path

import pytest
from dagster import DagsterInstance

from connectors.intake.landing import LandingState, scan_landing
from connectors.intake.receive import sha256_file
from pipelines.lifecycle import sensors
from pipelines.resources import DEFAULT_MAX_PER_TICK, LandingResource, StoreResource
from tests.pipelines.conftest import make_pipeline

BURST = 1000


def tiny_packages(landing: Path, guarantors: list[str], period: str, n: int) -> dict[str, str]:
    """``n`` tiny ZIPs (a manifest only, each distinct), spread over ``guarantors``: name → guarantor.
    Receiving does not read beyond the manifest, so they cost what a real package's bookkeeping costs."""
    names = {}
    for i in range(n):
        guarantor = guarantors[i % len(guarantors)]
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as z:
            z.writestr("manifest.json", json.dumps({"institution_id": guarantor, "period": period, "burst": i}))
        name = f"burst-{i:05d}.zip"
        (landing / name).write_bytes(buffer.getvalue())
        names[name] = guarantor
    return names


@pytest.fixture
def burst_pipeline(danbao_env, generated, monkeypatch, pg_database):
    """On PostgreSQL, the store a national deployment runs on (receiving threads overlap their commits),
    with a budget no test machine reaches: nothing but time may bound a tick (the budget's own cut is
    the next test's)."""
    monkeypatch.setenv("DANBAO_RUN_LAYOUT", "batch")  # 20 batch runs planned, not 1,000 filing runs
    return make_pipeline(danbao_env, DagsterInstance.ephemeral(), generated.registry_csv,
                         store=StoreResource(database_url=pg_database),
                         landing=LandingResource(tick_budget_seconds=600))


@pytest.fixture
def budgeted_pipeline(danbao_env, generated, monkeypatch):
    monkeypatch.setenv("DANBAO_RUN_LAYOUT", "batch")
    return make_pipeline(danbao_env, DagsterInstance.ephemeral(), generated.registry_csv,
                         landing=LandingResource(tick_budget_seconds=300))


def test_the_default_takes_a_national_burst_in_one_tick():
    assert DEFAULT_MAX_PER_TICK >= 4000  # 4,000 guarantors; the time budget is what bounds a tick
    assert LandingResource().tick_budget_seconds < 60  # under Dagster's sensor evaluation timeout


def test_a_burst_of_1000_is_picked_up_in_two_ticks(burst_pipeline, generated):
    tiny_packages(burst_pipeline.landing, generated.ids(), generated.period, BURST)
    started = time.perf_counter()
    burst_pipeline.runner.evaluate_sensor()  # first look: none taken (an upload could still be growing)
    assert burst_pipeline.submissions() == []
    requests = burst_pipeline.runner.evaluate_sensor()
    elapsed = time.perf_counter() - started
    submissions = burst_pipeline.submissions()
    assert len(submissions) == BURST and len({s.package_sha256 for s in submissions}) == BURST
    assert sum(len(r.run_config["ops"]["process_filings"]["config"]["submission_ids"]) for r in requests) == BURST
    assert len(requests) == BURST // 50
    print(f"\n{BURST} packages in two ticks: {elapsed:.1f} s (shared 2-core machine)")
    assert burst_pipeline.runner.evaluate_sensor() == [] and len(burst_pipeline.submissions()) == BURST


def test_a_tick_cut_by_its_budget_is_resumed_from_the_cursor(budgeted_pipeline, generated, monkeypatch):
    burst_pipeline = budgeted_pipeline
    names = tiny_packages(burst_pipeline.landing, generated.ids(), generated.period, BURST)
    # A clock that advances one second each time the sensor looks at it: a 300 s budget lets a tick
    # receive about 300 packages, whatever the machine's speed.
    start = time.monotonic()
    ticks = itertools.count()
    monkeypatch.setattr(sensors, "time", types.SimpleNamespace(monotonic=lambda: start + next(ticks), time=time.time))
    burst_pipeline.runner.evaluate_sensor()
    per_tick = []
    for _ in range(10):
        before = len(burst_pipeline.submissions())
        burst_pipeline.runner.evaluate_sensor()
        per_tick.append(len(burst_pipeline.submissions()) - before)
        if sum(per_tick) == BURST:
            break
    assert sum(per_tick) == BURST and 3 <= len(per_tick) <= 5 and all(0 < n <= 300 for n in per_tick), per_tick
    state = LandingState.from_json(burst_pipeline.runner.cursors["intake_sensor"])
    assert state.pending == {} and sorted(state.done) == sorted(names)
    submissions = burst_pipeline.submissions()
    assert len({s.package_sha256 for s in submissions}) == BURST  # none lost, none twice
    # Packages of one guarantor are numbered in the folder's order, across the cut ticks too.
    name_of = {sha256_file(burst_pipeline.landing / name): name for name in names}
    by_guarantor = defaultdict(list)
    for s in sorted(submissions, key=lambda s: s.sequence):
        by_guarantor[s.institution_id].append(name_of[s.package_sha256])
    for guarantor, in_order in by_guarantor.items():
        assert in_order == sorted(n for n, g in names.items() if g == guarantor)
    assert burst_pipeline.runner.evaluate_sensor() == []


def test_a_scan_past_its_deadline_leaves_everything_pending(tmp_path, generated):
    names = tiny_packages(tmp_path, generated.ids(), generated.period, 30)
    _, state = scan_landing(tmp_path, LandingState())
    ready, cut = scan_landing(tmp_path, state, deadline=time.monotonic() - 1)
    assert ready == [] and cut.pending == state.pending and len(cut.pending) == 30
    ready, after = scan_landing(tmp_path, cut)
    assert sorted(p.relpath for p in ready) == sorted(names) and after.pending == {}
