"""Every command on PostgreSQL, as an operator runs them: each a fresh process with only
``DANBAO_DATABASE_URL=postgresql://…`` (and ``DANBAO_HOME``) set, on one new database. ``danbao run``
used to stop at once with "Could not parse SQLAlchemy URL": the store resource, called outside a Dagster
run, took the unresolved ``EnvVar``'s name for the URL."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from store.db import make_engine, session_factory
from store.models import OutboxItem, Submission
from tests.web.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.postgres


def test_every_command_on_a_fresh_postgresql_database(pg_database, generated, tmp_path):
    home = tmp_path / "home"
    landing = home / "landing"
    landing.mkdir(parents=True)
    ids = generated.ids()
    shutil.copyfile(generated.clean[0], landing / generated.clean[0].name)
    shutil.copytree(generated.folders[1], landing / generated.folders[1].name)
    shutil.copyfile(generated.rejected[2], landing / generated.rejected[2].name)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DANBAO_", "DAGSTER_"))}
    env |= {"DANBAO_HOME": str(home), "DANBAO_DATABASE_URL": pg_database, "DANBAO_WEB_SECRET": "s" * 40,
            "DANBAO_PSEUDONYM_KEY": "postgres-commands-test-key-0123"}

    def danbao(*argv: str, ok: tuple[int, ...] = (0,)) -> str:
        done = subprocess.run([sys.executable, "-m", "pipelines.cli", *argv], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=240)
        assert done.returncode in ok, f"danbao {' '.join(argv)} → {done.returncode}\n{done.stdout}\n{done.stderr[-3000:]}"
        assert "Traceback" not in done.stderr, done.stderr[-3000:]
        return done.stdout

    # the pipeline: intake and validation runs, then late filings, on the local Dagster instance
    report = json.loads(danbao("run", "--registry", str(generated.registry_csv), "--no-pull", "--settle", "0.2",
                               "--json"))
    states = {row["institution_id"]: row["state"] for row in report["submissions"]}
    assert states == {ids[0]: "accepted", ids[1]: "accepted", ids[2]: "rejected"}
    assert "nothing new to validate" in danbao("run", "--no-pull", "--settle", "0")
    late = json.loads(danbao("late", "--period", generated.period, "--json"))
    assert {x["institution_id"] for x in late["late"]} == {ids[2], ids[3]}

    # check without --registry: the registry comes from the PostgreSQL store
    checked = json.loads(danbao("check", str(generated.clean[3]), "--json"))
    assert checked["status"] == "accepted" and checked["institution_id"] == ids[3]

    published = danbao("publish", "--period", generated.period, "--no-deliver", "--json")
    assert json.loads(published)
    secret = json.loads(danbao("tokens", "create", "--role", "regulator", "--label", "pg", "--json"))["secret"]

    engine = make_engine(pg_database)
    try:
        with session_factory(engine)() as session:
            assert session.scalar(select(func.count()).select_from(Submission)) == 3
            assert session.scalar(select(func.count()).select_from(OutboxItem)) > 0  # queued by publish
        assert not (home / "danbao.db").exists()  # nothing went to the SQLite default
    finally:
        engine.dispose()

    # the portal: `danbao serve` on the same database, and one API call
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "serve", "--port", str(port)], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/api/health", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            assert time.monotonic() < deadline, "danbao serve did not answer"
            time.sleep(0.2)
        answer = requests.get(f"http://127.0.0.1:{port}/api/submissions", timeout=10,
                              headers={"Authorization": f"Bearer {secret}"})
        assert answer.status_code == 200, answer.text
        listed = {item["institution_id"]: item["state"] for item in answer.json()["items"]}
        assert listed == {ids[0]: "accepted", ids[1]: "accepted", ids[2]: "rejected"}
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=20)
    assert "Traceback" not in output, output
