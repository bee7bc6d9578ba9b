"""Crash safety: `danbao publish` killed with SIGKILL at random points, at least 20 times, then run to
the end, against a receiver process that fails, drops and delays on purpose. Afterwards the receiver
holds every item exactly once and the outbox shows every item delivered with the receiver's original
receipt. On SQLite and PostgreSQL.

The killed runs are forked from ``crash_runner`` (a process that has the command imported), so that the
random kill points fall in the command's work (queuing, claiming, sending, storing receipts) instead of
Python's start-up; the last run is a fresh ``python -m pipelines.commands.publish``."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from store import outbox
from store.db import make_engine, session_factory
from store.models import DeliveryReceipt, FeedState, OutboxItem, OutboxState
from tests.publish.filed import file_packages
from tests.publish.helpers import DEPLOYMENT_KEY

ROOT = Path(__file__).resolve().parents[2]
KILLS = 20
GUARANTORS = 12
KILL_AFTER = (0.05, 2.0)  # seconds into a run; queuing 12 filings (plans, envelopes) and ~33 deliveries take ~15 s in all


@pytest.mark.slow
def test_kill_9_at_random_points_then_restart(store_url: str, tmp_path: Path) -> None:
    filed = file_packages(store_url, tmp_path, guarantors=GUARANTORS, rows=8, seed=4)
    env = {**os.environ, "DANBAO_SIGNING_KEY": DEPLOYMENT_KEY, "DANBAO_HOME": str(tmp_path / "home"),
           "DANBAO_DATABASE_URL": store_url, "DANBAO_BLOB_ROOT": str(filed.blob_root), "DANBAO_TABLES_URL": filed.tables_url}
    receiver = subprocess.Popen(
        [sys.executable, "-m", "pipelines.commands.receivers", "serve", "--pboc", "0", "--cbrc", "0",
         "--data", str(tmp_path / "receivers"), "--fail-rate", "0.15", "--drop-rate", "0.15",
         "--delay-rate", "0.1", "--delay", "0.6", "--latency", "0.1", "--seed", "9"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    engine = make_engine(store_url)
    try:
        urls = dict(receiver.stdout.readline().strip().split(": ", 1) for _ in range(2))
        env |= {"DANBAO_PBOC_URL": urls["PBOC receiver"], "DANBAO_CBRC_URL": urls["CBRC receiver"]}
        command = [sys.executable, "-m", "pipelines.commands.publish", "--period", filed.period,
                   "--connect-timeout", "0.2", "--timeout", "0.3", "--backoff", "0.05", "--max-attempts", "1000",
                   "--max-wait", "60"]
        kills, partial = _kill_repeatedly(command, env, session_factory(engine))
        assert kills >= KILLS
        assert partial >= 3, "the kills never landed while delivery was under way"

        final = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert final.returncode == 0, final.stdout + final.stderr
        _assert_exactly_once(session_factory(engine), urls, len(filed.institution_ids))
    finally:
        engine.dispose()
        receiver.terminate()
        receiver.wait(timeout=10)


def _kill_repeatedly(command: list[str], env: dict[str, str], factory) -> tuple[int, int]:
    """Run `danbao publish` (forked from ``crash_runner``, which has it imported already) over and over,
    each run SIGKILLed after a random delay if still running, until KILLS runs were killed. Returns
    (kills, kills that left the outbox part delivered and part not: kills in the middle of delivery)."""
    rng = random.Random(20261127)
    runner = subprocess.Popen([sys.executable, "-m", "tests.publish.crash_runner", *command[3:]], cwd=ROOT, env=env,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    kills = partial = runs = 0
    scale = 1.0  # a loaded machine is slower: stretch the window while no kill lands in mid-delivery
    try:
        while kills < KILLS:
            runs += 1
            assert runs <= 6 * KILLS, f"only {kills} of {runs} runs were still running when their time came"
            if kills and kills % 5 == 0 and not partial and scale < 8:
                scale *= 2
            runner.stdin.write(f"{rng.uniform(*KILL_AFTER) * scale}\n")
            runner.stdin.flush()
            outcome = runner.stdout.readline().strip()
            assert outcome == "killed" or outcome.startswith("exited"), outcome
            if outcome != "killed":  # it finished before its time: the window is too wide for this machine
                scale = max(0.1, scale / 2)
                continue
            kills += 1
            with factory() as session:
                counts = outbox.state_counts(session)
            if counts.get("delivered") and counts.get("pending", 0) + counts.get("sending", 0):
                partial += 1
    finally:
        runner.stdin.close()
        runner.wait(timeout=30)
    return kills, partial


def _assert_exactly_once(factory, urls: dict[str, str], guarantors: int) -> None:
    with factory() as session:
        items = outbox.list_items(session)
        receipts = outbox.receipts_for(session, [i.id for i in items])
        receipt_rows = session.scalar(select(func.count()).select_from(DeliveryReceipt))
        feeds = list(session.scalars(select(FeedState)))
        states = session.scalars(select(OutboxItem.state).distinct()).all()
    held = {}
    for name, url in (("pboc", urls["PBOC receiver"]), ("cbrc", urls["CBRC receiver"])):
        for entry in requests.get(f"{url}/{name}/received", timeout=5).json()["items"]:
            assert entry["idempotency_key"] not in held, "stored twice"
            held[entry["idempotency_key"]] = entry
    assert states == [OutboxState.DELIVERED]
    files = sum(len(feed.record_counts) for feed in feeds)  # one file per record type present
    assert len(feeds) == guarantors and all(feed.accepted_key for feed in feeds)
    assert sorted(str(i.kind) for i in items) == sorted(["pboc"] * files + ["cbrc"] * guarantors + ["cbrc_summary"])
    assert {i.idempotency_key for i in items} == set(held)
    assert receipt_rows == len(items)
    for item in items:
        assert held[item.idempotency_key]["sha256"] == item.body_sha256
        assert receipts[item.id].receipt == held[item.idempotency_key]["receipt"]  # the original receipt
    with factory() as session:  # no record arrived twice (that would be ABR002/ABR004): the only rejections are
        codes = {r.error_code for r in outbox.feedback_for(session)}  # template 1.0's known gap (CAR003/BAR007)
    assert codes <= {"CAR003", "BAR007"}
