"""Nothing stranded: `danbao run --no-pull` over a landing folder of several packages, SIGKILLed at
random points at least 20 times, then run once more to the end (with a short lease). Afterwards every
package is one submission in a final state (rejected, needs_confirmation, accepted with its datasets
written, or published), its bytes are intact in the blob store, every archived version is whole, and no
run is left unfinished in the Dagster instance. On SQLite and PostgreSQL stores.

The killed runs are forked from ``kill_runner`` (a process with the command imported), so that the
random kill points fall in the command's work (the landing scan, receiving, planning, the runs' steps and
Dagster's bookkeeping) instead of Python's start-up; the last run is a fresh ``python -m pipelines.cli``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from dagster import DagsterInstance, RunsFilter

from connectors.archive import FilingArchive
from connectors.datasets import DatasetStore
from connectors.intake.receive import folder_sha256
from filings.intake import load_registry
from filings.lifecycle import LEASE_VARIABLE
from pipelines.lifecycle.sensors import ABANDONED_TAG, UNFINISHED
from pipelines.partitions import SUBMISSION_TAG
from store import repository as repo
from store.blobs import BlobStore
from store.db import make_engine, session_factory
from store.models import SubmissionState

ROOT = Path(__file__).resolve().parents[2]
KILLS = 20
LEASE_SECONDS = 1.0
FINAL = {SubmissionState.REJECTED, SubmissionState.NEEDS_CONFIRMATION, SubmissionState.ACCEPTED,
         SubmissionState.PUBLISHED}
FINAL_NAMES = {str(state) for state in FINAL}
PACKAGES = 16


@pytest.mark.slow
def test_danbao_run_killed_at_random_points_leaves_nothing_stranded(store_url, tmp_path, generated, monkeypatch):
    started = time.monotonic()
    home = tmp_path / "home"
    landing = home / "landing"
    landing.mkdir(parents=True)
    ids = generated.ids()
    # every guarantor files four packages: a ZIP, a folder (both accepted), a rejected one, one with warnings
    packages = [kind[i] for i in range(len(ids))
                for kind in [(generated.clean, generated.folders, generated.rejected, generated.warned)[(i + k) % 4]
                             for k in range(4)]]
    assert len(packages) == PACKAGES

    def land() -> None:
        for i, package in enumerate(packages):
            target = landing / f"{i}_{package.name}"
            (shutil.copytree if package.is_dir() else shutil.copyfile)(package, target)

    engine = make_engine(store_url)
    factory = session_factory(engine)
    with factory() as session, session.begin():
        load_registry(session, generated.registry_csv)
    env = {**os.environ, "DANBAO_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"),
           "DANBAO_DATABASE_URL": store_url, LEASE_VARIABLE: f"{LEASE_SECONDS:g}"}
    try:
        kills, mid_work, window = _kill_repeatedly(["run", "--no-pull", "--settle", "0.2"], env, factory, land)
        assert kills >= KILLS
        # at least one kill must land mid-work (validating, or accepted without its datasets): how many do
        # depends on the machine's speed and load; the property under test is the final state below
        assert mid_work >= 1, "the kills never landed while submissions were being worked on"
        time.sleep(LEASE_SECONDS + 0.2)  # what the kills left is now older than the lease

        final = subprocess.run([sys.executable, "-m", "pipelines.cli", "run", "--no-pull", "--settle", "0.2"],
                               cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert final.returncode == 0, final.stdout + final.stderr

        with factory() as session:
            submissions = repo.list_submissions(session)
        states = Counter(str(s.state) for s in submissions)
        assert len(submissions) == len(packages), states  # each package once, however often it was scanned
        assert {s.state for s in submissions} <= FINAL, states
        assert states == Counter({"accepted": 8, "rejected": 4, "needs_confirmation": 4})
        for submission in submissions:
            if submission.state in (SubmissionState.ACCEPTED, SubmissionState.PUBLISHED):
                assert submission.datasets_published_at is not None, submission
        by_guarantor = Counter(s.institution_id for s in submissions)
        assert by_guarantor == Counter(dict.fromkeys(ids, 4))
        _assert_bytes_intact(BlobStore(home / "blobs"), submissions, packages, tmp_path / "restored")
        _assert_archives_whole(home, submissions)
        monkeypatch.setenv("DAGSTER_HOME", env["DAGSTER_HOME"])
        with DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
            left = [r for r in instance.get_run_records(RunsFilter(statuses=UNFINISHED))
                    if SUBMISSION_TAG in r.dagster_run.tags]
            abandoned = [r for r in instance.get_run_records() if ABANDONED_TAG in r.dagster_run.tags]
        assert left == []
        print(f"\n{store_url.split(':')[0]}: {kills} kills ({mid_work} mid-work, window up to {window:.1f} s), "
              f"{len(abandoned)} abandoned runs marked failed, final states {dict(states)}, "
              f"{time.monotonic() - started:.0f} s")
    finally:
        engine.dispose()


def _kill_repeatedly(argv: list[str], env: dict[str, str], factory, land) -> tuple[int, int, float]:
    """Run ``danbao ARGV`` (forked from ``kill_runner``) once on an empty landing folder (the Dagster
    instance, the cursor; it says how long a run takes to start), then ``land()`` the packages and run it
    over and over, each run SIGKILLed after a random delay if still running, until KILLS runs were killed.
    The delays are drawn up to the start-up time plus two seconds, a window that widens by a quarter
    whenever a killed run left the store as it found it (on a loaded machine a run needs longer to get
    anywhere) and narrows to the length of a run that ended before its kill. Returns (kills, kills that left a submission in the middle of its work: ``validating``, or
    accepted without its datasets, the widest window)."""
    rng = random.Random(20261128)
    runner = subprocess.Popen([sys.executable, "-m", "tests.pipelines.kill_runner", *argv], cwd=ROOT, env=env,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)

    def run(delay: float) -> str:
        runner.stdin.write(f"{delay}\n")
        runner.stdin.flush()
        outcome = runner.stdout.readline().strip()
        assert outcome == "killed" or outcome.startswith("exited"), outcome
        return outcome

    def store_state() -> list[tuple[int, str, bool]]:
        with factory() as session:
            return [(s.id, str(s.state), s.datasets_published_at is not None) for s in repo.list_submissions(session)]

    def in_progress(_id: int, state: str, published: bool) -> bool:
        return state == "validating" or (state == "accepted" and not published)

    def watch_and_kill(condition) -> bool:
        """Start a run and SIGKILL it as soon as ``condition(store_state())`` holds; True if it was killed."""
        runner.stdin.write("watch\n")
        runner.stdin.flush()
        pid = int(runner.stdout.readline().split()[1])
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if condition(store_state()):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                break
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.005)
        outcome = runner.stdout.readline().strip()
        assert outcome == "killed" or outcome.startswith("exited"), outcome
        return outcome == "killed"

    kills = mid_work = runs = 0
    try:
        calibration = run(600.0).split()
        assert calibration[:2] == ["exited", "0"], calibration
        startup = float(calibration[2])
        land()
        # the first kill is aimed: at the first moment the store shows a submission in the middle of its
        # work, so that a mid-work kill is certain whatever the machine's speed; the rest are random
        if watch_and_kill(lambda state: any(in_progress(*submission) for submission in state)):
            kills += 1
            mid_work += any(in_progress(*submission) for submission in store_state())
        window = widest = startup + 2.0
        before = store_state()
        while kills < KILLS:
            runs += 1
            assert runs <= 3 * KILLS, f"only {kills} of {runs} runs were still running when their time came"
            delay = rng.uniform(0.05, window)
            outcome = run(delay)
            if os.environ.get("DANBAO_KILL_DEBUG"):
                print(f"run {runs}: window {window:.1f} delay {delay:.1f} → {outcome}; {store_state()}", flush=True)
            if outcome != "killed":
                window = max(0.5, min(window, float(outcome.split()[2])))
                before = store_state()
                continue
            kills += 1
            after = store_state()
            if any(in_progress(*submission) for submission in after):
                mid_work += 1
            done = len(after) == PACKAGES and all(state in FINAL_NAMES and (state != "accepted" or published)
                                                  for _, state, published in after)
            if after == before and not done:
                window = min(window * 1.25, 4 * startup + 30)
                widest = max(widest, window)
            before = after
    finally:
        runner.stdin.close()
        runner.wait(timeout=60)
    return kills, mid_work, widest


def _assert_bytes_intact(blobs: BlobStore, submissions, packages: list[Path], scratch: Path) -> None:
    """Each submission's blob holds the landed package byte for byte (a ZIP's SHA-256, a folder's files)."""
    expected = {folder_sha256(p) if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest() for p in packages}
    assert {s.package_sha256 for s in submissions} == expected
    for submission in submissions:
        if blobs.is_folder(submission.blob_key):
            restored = blobs.restore_folder(submission.blob_key, scratch / str(submission.id))  # checks each file
            assert folder_sha256(restored) == submission.package_sha256
        else:
            assert hashlib.sha256(blobs.get(submission.blob_key)).hexdigest() == submission.package_sha256


def _assert_archives_whole(home: Path, submissions) -> None:
    """Every version a reader can see is whole, and each filing's results are there."""
    archive = FilingArchive(home / "tables")
    datasets = DatasetStore(home / "datasets")
    for submission in submissions:
        bundle = archive.validation(submission.period, submission.institution_id, submission.sequence)
        assert bundle is not None and bundle.meta["submission_id"] == submission.id
        if submission.state in (SubmissionState.ACCEPTED, SubmissionState.PUBLISHED):
            accepted = archive.accepted(submission.period, submission.institution_id, submission.sequence)
            assert accepted is not None and accepted.tables["guarantees"].num_rows > 0
            grades = datasets.read("grades", submission.period, submission.institution_id)
            assert grades is not None and grades.num_rows == 1
    for dataset in ("indicators", "findings", "grades", "subsidies", "guarantees"):
        for period, institution in datasets.partitions(dataset):
            for version in datasets.versions(dataset, period, institution):
                table = datasets.parquet.read(datasets.parquet.version(
                    datasets.partition(dataset, period, institution), version.version))["part"]
                assert table.num_rows == version.rows
